#include "experiments/rlhf/scale.h"

namespace ember::rlhf {

Scale scale_for(experiments::Mode mode) {
  Scale s;
  switch (mode) {
    case experiments::Mode::Quick:
      s.seeds = 2;
      s.pretrain.steps = 150;
      s.pool_per_policy = 300;
      s.train_pairs = 800;
      s.heldout_pairs = 300;
      s.widths = {16, 32, 64};
      s.reward_training = {.steps = 150, .eval_every = 25};
      s.pair_counts = {100, 200, 400, 800};
      s.attack.max_pairs = 40;
      s.rl.steps = 24;
      s.rl.prompts = 8;
      break;
    case experiments::Mode::Standard:
      s.pretrain.steps = 300;
      s.reward_training = {.steps = 300, .eval_every = 25};
      s.pair_counts = {250, 500, 1000, 2000};
      s.rl.steps = 50;
      break;
    case experiments::Mode::Full:
      s.seeds = 8;
      s.policy = {.d_model = 128, .context = 128};
      s.pretrain = {.steps = 4000, .batch = 64};
      s.sampling.continuation_length = 64;
      s.pool_per_policy = 8000;
      s.train_pairs = 12000;
      s.heldout_pairs = 2000;
      s.widths = {16, 32, 64, 96, 128, 192};
      s.reward_training = {.steps = 2000, .batch = 64, .eval_every = 100};
      s.pair_counts = {375, 750, 1500, 3000, 6000, 12000};
      s.efficiency_width = 64;
      s.attack.max_pairs = 300;
      s.rl.steps = 300;
      s.rl.prompts = 32;
      s.rl_reward_width = 64;
      break;
  }
  s.rl.sampling = s.sampling;
  return s;
}

}  // namespace ember::rlhf
