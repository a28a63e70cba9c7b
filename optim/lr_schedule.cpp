#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tensor/error.h"

namespace ember {
namespace {

double warmup_factor(int64_t step, int64_t warmup_steps) {
  return step < warmup_steps ? static_cast<double>(step + 1) / static_cast<double>(warmup_steps) : 1.0;
}

// Warm-up, then final_ratio + (1 - final_ratio) * curve(progress) with progress in [0, 1].
Schedule warmup_then_decay(const char* name, int64_t total_steps, int64_t warmup_steps, double final_ratio,
                           double (*curve)(double)) {
  check(warmup_steps >= 0 && total_steps > warmup_steps, name, ": need 0 <= warmup_steps < total_steps, got warmup ",
        warmup_steps, " and total ", total_steps);
  check(final_ratio >= 0 && final_ratio <= 1, name, ": final_ratio must be in [0, 1], got ", final_ratio);
  return [=](int64_t step) {
    if (step < warmup_steps) return warmup_factor(step, warmup_steps);
    const double progress =
        std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps));
    return final_ratio + (1 - final_ratio) * curve(progress);
  };
}

}  // namespace

Schedule constant_schedule() {
  return [](int64_t) { return 1.0; };
}

Schedule linear_warmup(int64_t warmup_steps) {
  check(warmup_steps >= 0, "linear_warmup: warmup_steps must be >= 0, got ", warmup_steps);
  return [warmup_steps](int64_t step) { return warmup_factor(step, warmup_steps); };
}

Schedule cosine_schedule(int64_t total_steps, int64_t warmup_steps, double final_ratio) {
  return warmup_then_decay("cosine_schedule", total_steps, warmup_steps, final_ratio,
                           [](double p) { return 0.5 * (1 + std::cos(std::numbers::pi * p)); });
}

Schedule linear_decay(int64_t total_steps, int64_t warmup_steps, double final_ratio) {
  return warmup_then_decay("linear_decay", total_steps, warmup_steps, final_ratio, [](double p) { return 1 - p; });
}

}  // namespace ember
