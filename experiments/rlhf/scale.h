#pragma once
// What each mode runs: model sizes, data sizes, steps and seeds.
#include <cstdint>
#include <vector>

#include "experiments/common/program.h"
#include "experiments/rlhf/attack.h"
#include "experiments/rlhf/rl.h"
#include "experiments/rlhf/training.h"

namespace ember::rlhf {

struct Scale {
  int seeds = 5;  // replicates of every measurement: reward-model init, pair draws and labels, RL sampling
  PolicyOptions policy;
  PretrainOptions pretrain;
  SamplingOptions sampling;
  int64_t pool_per_policy = 1000;  // continuations sampled from each pre-trained policy
  double annotator_temperature = 0.3;
  int64_t train_pairs = 2000, heldout_pairs = 600;
  std::vector<int64_t> widths = {16, 24, 32, 48, 64};  // reward-model d_model (claims 1, 2)
  RewardTrainOptions reward_training;
  std::vector<int64_t> pair_counts = {125, 250, 500, 1000, 2000};  // claim 3
  int64_t efficiency_width = 32;
  AttackOptions attack;
  RlOptions rl;
  int64_t rl_reward_width = 32;  // the (Transformer) reward model both policies are tuned against
  std::vector<Algorithm> algorithms = {Algorithm::PPO, Algorithm::RLOO};
};

Scale scale_for(experiments::Mode mode);

}  // namespace ember::rlhf
