#pragma once
// RL fine-tuning of a pre-trained policy against a learned reward with a KL penalty to the
// frozen pre-trained (reference) policy: PPO (clipped objective, several epochs of minibatches
// on each batch of samples) or RLOO (one REINFORCE step per batch). Both use the per-prompt
// leave-one-out baseline: each prompt is sampled `group` times.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "experiments/rlhf/corpus.h"
#include "experiments/rlhf/gold.h"
#include "experiments/rlhf/models.h"
#include "experiments/rlhf/preferences.h"

namespace ember::rlhf {

enum class Algorithm { PPO, RLOO };
std::string algorithm_name(Algorithm a);  // "ppo", "rloo"

struct RlOptions {
  Algorithm algorithm = Algorithm::PPO;
  int steps = 40;
  int prompts = 16, group = 4;  // samples per step: prompts x group
  int ppo_epochs = 2, minibatches = 2;
  double lr = 1e-3, kl_beta = 0.05, clip = 0.2;
  SamplingOptions sampling = {};
};

// What one step measured on its samples, before its update.
struct RlStep {
  int step = 0;
  double proxy = 0;  // mean learned reward
  double gold = 0;   // mean gold reward
  double kl = 0;     // mean sequence KL(policy || reference), nats
};

// Fine-tunes `policy` in place; `reference` is the frozen copy of its pre-trained weights.
std::vector<RlStep> fine_tune(nn::CausalLM& policy, nn::CausalLM& reference, RewardModel& reward,
                              const GoldReward& gold, const Corpus& corpus, const RlOptions& options, uint64_t seed);

}  // namespace ember::rlhf
