#pragma once
// Learning-rate schedules: a schedule maps the 0-based step to the multiplier of the base lr.
// Warm-up ramps linearly to 1 over `warmup_steps` steps, starting at 1 / warmup_steps rather
// than 0 so that no step is wasted; decays run from the end of warm-up to `total_steps` and
// then hold at `final_ratio`.
#include <cstdint>
#include <functional>

namespace ember {

using Schedule = std::function<double(int64_t step)>;

Schedule constant_schedule();
Schedule linear_warmup(int64_t warmup_steps);
// final_ratio + (1 - final_ratio) * (1 + cos(pi * progress)) / 2.
// Differs from PyTorch by design: past total_steps this holds final_ratio, where PyTorch's
// CosineAnnealingLR keeps following the cosine and rises back to the base lr at 2 T_max (a
// run longer than its schedule should not have its learning rate climb again).
Schedule cosine_schedule(int64_t total_steps, int64_t warmup_steps = 0, double final_ratio = 0);
// final_ratio + (1 - final_ratio) * (1 - progress).
Schedule linear_decay(int64_t total_steps, int64_t warmup_steps = 0, double final_ratio = 0);

}  // namespace ember
