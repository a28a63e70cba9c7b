// rlhf's RL pieces against hand-computed values: the Bradley-Terry loss, the KL estimator,
// leave-one-out advantages, PPO's clipped objective and REINFORCE; and the analysis helpers.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/backward.h"
#include "experiments/rlhf/analysis.h"
#include "experiments/rlhf/losses.h"
#include "tensor/creation.h"
#include "tensor/error.h"

using namespace ember;
using namespace ember::rlhf;

TEST(RlhfLosses, BradleyTerryLoss) {
  Tensor chosen = from_vector<float>({2, 0}, {2}), rejected = from_vector<float>({0, 0}, {2});
  chosen.set_requires_grad(true);
  Tensor loss = bradley_terry_loss(chosen, rejected);
  // (log(1 + e^-2) + log 2) / 2
  EXPECT_NEAR(loss.item(), (std::log1p(std::exp(-2.0)) + std::log(2.0)) / 2, 1e-6);
  backward(loss);
  // d/dc softplus(r - c) / N = -sigmoid(r - c) / 2
  const auto g = chosen.grad().to_vector<float>();
  EXPECT_NEAR(g[0], -1 / (1 + std::exp(2.0)) / 2, 1e-6);
  EXPECT_NEAR(g[1], -0.25, 1e-6);
  EXPECT_THROW(bradley_terry_loss(chosen, from_vector<float>({0}, {1})), Error);
}

TEST(RlhfLosses, SequenceKl) {
  Tensor logp = from_vector<float>({std::log(0.5f), std::log(0.25f), -1, -2}, {2, 2});
  Tensor ref = from_vector<float>({std::log(0.25f), std::log(0.25f), -1.5f, -1}, {2, 2});
  const auto kl = sequence_kl(logp, ref);
  ASSERT_EQ(kl.size(), 2u);
  EXPECT_NEAR(kl[0], std::log(2.0), 1e-6);
  EXPECT_NEAR(kl[1], -0.5, 1e-6);  // one sample's estimate may be negative
}

TEST(RlhfLosses, LeaveOneOutAdvantages) {
  const auto a = leave_one_out_advantages({1, 2, 3, 0, 0, 6}, 3);
  const std::vector<double> expected = {-1.5, 0, 1.5, -3, -3, 6};
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], expected[i], 1e-12);
  EXPECT_THROW(leave_one_out_advantages({1, 2, 3}, 2), Error);
  EXPECT_THROW(leave_one_out_advantages({1, 2}, 1), Error);
}

TEST(RlhfLosses, PpoClippedObjective) {
  // Ratios 1.5 (A = +1: clipped to 1.2), 1.5 (A = -1: unclipped, -1.5), 0.5 (A = +1: unclipped).
  Tensor new_logp = from_vector<float>({std::log(1.5f), std::log(1.5f), std::log(0.5f)}, {3, 1});
  new_logp.set_requires_grad(true);
  Tensor old_logp = zeros({3, 1});
  Tensor adv = from_vector<float>({1, -1, 1}, {3});
  Tensor loss = ppo_clipped_loss(new_logp, old_logp, adv, 0.2);
  EXPECT_NEAR(loss.item(), -(1.2 - 1.5 + 0.5) / 3, 1e-6);
  backward(loss);
  const auto g = new_logp.grad().to_vector<float>();
  EXPECT_NEAR(g[0], 0, 1e-7);              // the clipped term carries no gradient
  EXPECT_NEAR(g[1], -(-1.5) / 3, 1e-6);    // -ratio A / N
  EXPECT_NEAR(g[2], -(0.5) / 3, 1e-6);
  EXPECT_THROW(ppo_clipped_loss(new_logp, old_logp, adv, 1.5), Error);
  EXPECT_THROW(ppo_clipped_loss(new_logp, old_logp, from_vector<float>({1}, {1}), 0.2), Error);
}

TEST(RlhfLosses, Reinforce) {
  Tensor logp = from_vector<float>({-1, -1, -2, 0}, {2, 2});
  Tensor adv = from_vector<float>({1, -2}, {2});
  EXPECT_NEAR(reinforce_loss(logp, adv).item(), -1.0, 1e-6);  // -mean(-2 * 1, -2 * -2)
}

TEST(RlhfAnalysis, LineFitAndCrossing) {
  const auto f = fit_line({0, 1, 2}, {1, 3, 5});
  EXPECT_NEAR(f.slope, 2, 1e-12);
  EXPECT_NEAR(f.intercept, 1, 1e-12);
  EXPECT_NEAR(f.r2, 1, 1e-12);
  EXPECT_NEAR(fit_line({0, 1, 2, 3}, {0, 1, 1, 0}).r2, 0, 1e-12);
  // 0.6 -> 0.8 between 100 and 400: 0.7 is reached halfway in log x, at 200.
  EXPECT_NEAR(first_reaching({100, 400}, {0.6, 0.8}, 0.7), 200, 1e-9);
  EXPECT_TRUE(std::isnan(first_reaching({100, 400}, {0.6, 0.65}, 0.7)));
  const auto m = moving_average({1, 3, 5, 7}, 2);
  EXPECT_EQ(m, (std::vector<double>{1, 2, 4, 6}));
}
