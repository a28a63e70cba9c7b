#pragma once
// What the jobs of one process share, built on first use and kept: the corpus, the gold reward,
// the two pre-trained policies and the preference pool sampled from them. Each is a
// deterministic function of the mode and --seed, so a shard that rebuilds it gets the same
// values as one that kept it, and the records do not depend on how jobs fall into shards.
#include <map>
#include <memory>
#include <optional>

#include "experiments/rlhf/scale.h"

namespace ember::rlhf {

// A job's seed for replicate `replicate` and an optional stream tag, from --seed.
uint64_t replicate_seed(uint64_t base, int replicate, uint64_t tag = 0);

class Lab {
 public:
  Lab(Scale scale, experiments::RunOptions options) : scale_(std::move(scale)), options_(std::move(options)) {}

  const Scale& scale() const { return scale_; }
  // A seed for replicate `replicate` and stream `tag`, derived from --seed.
  uint64_t seed(int replicate, uint64_t tag) const { return replicate_seed(options_.seed, replicate, tag); }
  const Corpus& corpus();
  const GoldReward& gold();
  // The pre-trained policy of a family (never modified: RL tunes a copy) and its validation loss.
  nn::CausalLM& policy(Family family);
  double pretrain_loss(Family family);
  // A trainable copy of the pre-trained policy.
  std::shared_ptr<nn::CausalLM> policy_copy(Family family);
  // Continuations of both pre-trained policies, half each.
  const Pool& pool();
  // The pairs and labels of replicate `seed`.
  const PreferenceData& preferences(int seed);
  // The reward model RL optimises in replicate `seed` (a Transformer of width rl_reward_width).
  RewardModel& rl_reward_model(int seed);

 private:
  Scale scale_;
  experiments::RunOptions options_;
  std::optional<Corpus> corpus_;
  std::optional<GoldReward> gold_;
  std::map<Family, std::shared_ptr<nn::CausalLM>> policies_;
  std::map<Family, double> losses_;
  std::optional<Pool> pool_;
  std::map<int, PreferenceData> preferences_;
  std::map<int, std::shared_ptr<RewardModel>> reward_models_;
};


}  // namespace ember::rlhf
