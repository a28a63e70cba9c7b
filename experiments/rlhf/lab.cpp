#include "experiments/rlhf/lab.h"

#include "tensor/random.h"

namespace ember::rlhf {

uint64_t replicate_seed(uint64_t base, int replicate, uint64_t tag) {
  return base * 1000003ULL + static_cast<uint64_t>(replicate) * 7919ULL + tag * 104729ULL + 1;
}

const Corpus& Lab::corpus() {
  if (!corpus_) corpus_ = load_corpus(options_.data);
  return *corpus_;
}

const GoldReward& Lab::gold() {
  if (!gold_) gold_ = GoldReward::from_text(corpus().train);
  return *gold_;
}

nn::CausalLM& Lab::policy(Family family) {
  auto& p = policies_[family];
  if (!p) {
    // Policies are pre-trained once per --seed; the replicates vary everything after.
    manual_seed(replicate_seed(options_.seed, 0, 1 + static_cast<uint64_t>(family)));
    p = make_policy(family, scale_.policy);
    losses_[family] = pretrain(*p, corpus(), scale_.pretrain, replicate_seed(options_.seed, 0, 3));
  }
  return *p;
}

double Lab::pretrain_loss(Family family) {
  policy(family);
  return losses_.at(family);
}

std::shared_ptr<nn::CausalLM> Lab::policy_copy(Family family) {
  auto copy = make_policy(family, scale_.policy);
  copy->load_state_dict(policy(family).state_dict());
  return copy;
}

const Pool& Lab::pool() {
  if (!pool_) {
    Pool pool;
    for (Family f : {Family::Transformer, Family::Hybrid})
      pool.append(sample_pool(policy(f), corpus(), gold(), scale_.pool_per_policy, scale_.sampling,
                              replicate_seed(options_.seed, 0, 10 + static_cast<uint64_t>(f))));
    pool_ = std::move(pool);
  }
  return *pool_;
}

const PreferenceData& Lab::preferences(int seed) {
  auto it = preferences_.find(seed);
  if (it == preferences_.end())
    it = preferences_
             .emplace(seed, make_preferences(pool(), scale_.train_pairs, scale_.heldout_pairs,
                                             scale_.annotator_temperature, replicate_seed(options_.seed, seed, 20)))
             .first;
  return it->second;
}

RewardModel& Lab::rl_reward_model(int seed) {
  auto& m = reward_models_[seed];
  if (!m) {
    manual_seed(replicate_seed(options_.seed, seed, 30));
    m = std::make_shared<RewardModel>(RewardModelOptions{
        .family = Family::Transformer, .d_model = scale_.rl_reward_width, .length = scale_.sampling.continuation_length});
    train_reward_model(*m, pool(), preferences(seed), scale_.train_pairs, scale_.reward_training,
                       replicate_seed(options_.seed, seed, 31));
  }
  return *m;
}

}  // namespace ember::rlhf
