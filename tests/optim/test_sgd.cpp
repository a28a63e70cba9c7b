#include "tests/optim/quadratic.h"

namespace ember {
namespace {

using testing::max_abs_diff;
using testing::Quadratic;
using testing::run_steps;
using testing::Values;

// PyTorch's SGD update, written out in f64.
Values reference_sgd(const Quadratic& q, const SgdOptions& o, int steps) {
  Values p = q.start(), buffer(p.size());
  for (int t = 0; t < steps; ++t) {
    const Values g = q.grad(p);
    for (size_t i = 0; i < p.size(); ++i) {
      double d = (o.maximize ? -g[i] : g[i]) + o.weight_decay * p[i];
      if (o.momentum != 0) {
        buffer[i] = t == 0 ? d : o.momentum * buffer[i] + (1 - o.dampening) * d;
        d = o.nesterov ? d + o.momentum * buffer[i] : buffer[i];
      }
      p[i] -= o.lr * d;
    }
  }
  return p;
}

Values run_sgd(const Quadratic& q, const SgdOptions& o, int steps, DType dtype = DType::F64) {
  return run_steps(q, steps, [&](std::vector<Tensor> ps) { return std::make_unique<SGD>(ps, o); }, dtype);
}

TEST(SGD, MatchesReferenceAcrossOptions) {
  const Quadratic q({3, 4});
  const std::vector<SgdOptions> cases = {
      {.lr = 0.1},
      {.lr = 0.1, .weight_decay = 0.05},
      {.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01},
      {.lr = 0.05, .momentum = 0.8, .weight_decay = 0.02, .nesterov = true},
  };
  for (const SgdOptions& o : cases) EXPECT_LT(max_abs_diff(run_sgd(q, o, 5), reference_sgd(q, o, 5)), 1e-12);
}

// maximize (PyTorch's: the gradient negated before weight decay and momentum) ascends.
TEST(SGD, MaximizeMatchesReference) {
  const Quadratic q({3, 4});
  const std::vector<SgdOptions> cases = {
      {.lr = 0.1, .maximize = true},
      {.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01, .maximize = true},
      {.lr = 0.05, .momentum = 0.8, .weight_decay = 0.02, .nesterov = true, .maximize = true},
  };
  for (const SgdOptions& o : cases) {
    EXPECT_LT(max_abs_diff(run_sgd(q, o, 5), reference_sgd(q, o, 5)), 1e-12);
    EXPECT_LT(max_abs_diff(run_sgd(q, o, 5, DType::F32), reference_sgd(q, o, 5)), 1e-5);
  }
  // Plain gradient ascent moves away from the minimum, step for step the mirror of descent.
  const Values down = run_sgd(q, {.lr = 0.1}, 1), up = run_sgd(q, {.lr = 0.1, .maximize = true}, 1);
  const Values start = q.start();
  for (size_t i = 0; i < start.size(); ++i) EXPECT_NEAR(up[i] - start[i], start[i] - down[i], 1e-12);
}

TEST(SGD, FloatAndLargeThreadedParametersMatchReference) {
  const SgdOptions o{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true};
  const Quadratic small({7}), large({200, 300});  // the large one crosses the parallel grain
  EXPECT_LT(max_abs_diff(run_sgd(small, o, 4, DType::F32), reference_sgd(small, o, 4)), 1e-5);
  EXPECT_LT(max_abs_diff(run_sgd(large, o, 3, DType::F32), reference_sgd(large, o, 3)), 1e-5);
}

TEST(SGD, Bf16ParametersFollowTheReference) {
  const Quadratic q({16});
  const SgdOptions o{.lr = 0.1, .momentum = 0.5};
  EXPECT_LT(max_abs_diff(run_sgd(q, o, 3, DType::BF16), reference_sgd(q, o, 3)), 3e-2);
}

TEST(SGD, GradientDescentAndMomentumReachTheMinimum) {
  const Quadratic q({5, 2});
  EXPECT_LT(max_abs_diff(run_sgd(q, {.lr = 0.5}, 200), q.c), 1e-10);
  EXPECT_LT(max_abs_diff(run_sgd(q, {.lr = 0.1, .momentum = 0.9}, 400), q.c), 1e-8);
  EXPECT_LT(max_abs_diff(run_sgd(q, {.lr = 0.1, .momentum = 0.9, .nesterov = true}, 400), q.c), 1e-8);
}

TEST(SGD, RejectsBadHyperParameters) {
  Tensor p = zeros({2}).set_requires_grad();
  testing::expect_error([&] { SGD({p}, {.momentum = 0, .nesterov = true}); },
                        "SGD: nesterov momentum needs momentum > 0 and dampening == 0");
  testing::expect_error([&] { SGD({p}, {.lr = -1}); }, "SGD: lr must be >= 0, got -1");
  testing::expect_error([&] { SGD({p}, {.dampening = 2}); }, "SGD: dampening must be in [0, 1]");
}

}  // namespace
}  // namespace ember
