#include <cmath>
#include <numbers>

#include "tests/optim/quadratic.h"

namespace ember {
namespace {

// A deliberate difference from PyTorch: past total_steps the cosine schedule holds its final
// value, where torch.optim.lr_scheduler.CosineAnnealingLR(T_max=10) keeps following the cosine
// and rises again (its closed form gives 0.5 at step 15 and the full lr at step 20).
TEST(LrSchedule, CosineHoldsItsFinalValuePastTotalSteps) {
  const Schedule cosine = cosine_schedule(10, 0, 0.1);
  for (int64_t step : {10, 11, 15, 20, 30, 1000}) EXPECT_NEAR(cosine(step), 0.1, 1e-15) << "step " << step;
  // PyTorch's closed form, for the record: eta_min + (1 - eta_min) (1 + cos(pi t / T_max)) / 2.
  auto pytorch = [](int64_t t) { return 0.1 + 0.9 * (1 + std::cos(std::numbers::pi * static_cast<double>(t) / 10)) / 2; };
  for (int64_t step = 0; step <= 10; ++step) EXPECT_NEAR(cosine(step), pytorch(step), 1e-15) << "step " << step;
  EXPECT_NEAR(pytorch(15), 0.55, 1e-15);
  EXPECT_NEAR(pytorch(20), 1.0, 1e-15);
}

TEST(LrSchedule, ValuesAtChosenSteps) {
  EXPECT_EQ(constant_schedule()(0), 1.0);
  EXPECT_EQ(constant_schedule()(12345), 1.0);

  const Schedule warm = linear_warmup(4);
  EXPECT_DOUBLE_EQ(warm(0), 0.25);
  EXPECT_DOUBLE_EQ(warm(2), 0.75);
  EXPECT_DOUBLE_EQ(warm(3), 1.0);
  EXPECT_DOUBLE_EQ(warm(100), 1.0);
  EXPECT_DOUBLE_EQ(linear_warmup(0)(0), 1.0);

  const Schedule cosine = cosine_schedule(10);
  EXPECT_DOUBLE_EQ(cosine(0), 1.0);
  EXPECT_DOUBLE_EQ(cosine(5), 0.5);
  EXPECT_DOUBLE_EQ(cosine(2), 0.5 * (1 + std::cos(std::numbers::pi * 0.2)));
  EXPECT_NEAR(cosine(10), 0.0, 1e-15);
  EXPECT_NEAR(cosine(50), 0.0, 1e-15);

  // Warm-up of 2 steps, then cosine from 1 down to 0.1 over the remaining 8.
  const Schedule warm_cosine = cosine_schedule(10, 2, 0.1);
  EXPECT_DOUBLE_EQ(warm_cosine(0), 0.5);
  EXPECT_DOUBLE_EQ(warm_cosine(1), 1.0);
  EXPECT_DOUBLE_EQ(warm_cosine(2), 1.0);
  EXPECT_DOUBLE_EQ(warm_cosine(6), 0.1 + 0.9 * 0.5);
  EXPECT_DOUBLE_EQ(warm_cosine(20), 0.1);

  const Schedule linear = linear_decay(5);
  EXPECT_DOUBLE_EQ(linear(0), 1.0);
  EXPECT_DOUBLE_EQ(linear(1), 0.8);
  EXPECT_DOUBLE_EQ(linear(4), 0.2);
  EXPECT_DOUBLE_EQ(linear(9), 0.0);
  const Schedule warm_linear = linear_decay(12, 2, 0.5);
  EXPECT_DOUBLE_EQ(warm_linear(0), 0.5);
  EXPECT_DOUBLE_EQ(warm_linear(7), 0.75);
}

TEST(LrSchedule, TheOptimizerScalesItsLearningRateByTheStep) {
  Tensor p = zeros({1}, {.dtype = DType::F64}).set_requires_grad();
  SGD opt({p}, {.lr = 0.1});
  opt.set_schedule(linear_warmup(4));
  std::vector<double> moves;
  for (int t = 0; t < 5; ++t) {
    EXPECT_DOUBLE_EQ(opt.current_lr(opt.param_groups()[0]), 0.1 * std::min(1.0, (t + 1) / 4.0));
    const double before = p.item();
    p.set_grad(ones({1}, {.dtype = DType::F64}));
    opt.step();
    moves.push_back(before - p.item());
  }
  for (int t = 0; t < 5; ++t) EXPECT_NEAR(moves[t], 0.1 * std::min(1.0, (t + 1) / 4.0), 1e-15);
}

TEST(LrSchedule, RejectsInconsistentSteps) {
  testing::expect_error([] { cosine_schedule(5, 5); }, "cosine_schedule: need 0 <= warmup_steps < total_steps");
  testing::expect_error([] { linear_decay(10, 0, 1.5); }, "linear_decay: final_ratio must be in [0, 1], got 1.5");
  testing::expect_error([] { linear_warmup(-1); }, "linear_warmup");
}

}  // namespace
}  // namespace ember
