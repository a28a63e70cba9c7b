#include <cmath>

#include "tests/optim/quadratic.h"

namespace ember {
namespace {

using testing::max_abs_diff;
using testing::Quadratic;
using testing::run_steps;
using testing::Values;

// PyTorch's Adam / AdamW update, written out in f64.
Values reference_adam(const Quadratic& q, const AdamOptions& o, bool decoupled, int steps) {
  Values p = q.start(), m(p.size()), v(p.size());
  for (int t = 1; t <= steps; ++t) {
    const Values g0 = q.grad(p);
    const double correction1 = 1 - std::pow(o.beta1, t), correction2 = 1 - std::pow(o.beta2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      double g = g0[i];
      if (decoupled)
        p[i] *= 1 - o.lr * o.weight_decay;
      else
        g += o.weight_decay * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      p[i] -= o.lr / correction1 * m[i] / (std::sqrt(v[i]) / std::sqrt(correction2) + o.eps);
    }
  }
  return p;
}

template <typename Opt>
Values run_adam(const Quadratic& q, const AdamOptions& o, int steps, DType dtype = DType::F64) {
  return run_steps(q, steps, [&](std::vector<Tensor> ps) { return std::make_unique<Opt>(ps, o); }, dtype);
}

TEST(Adam, MatchesReference) {
  const Quadratic q({3, 5});
  for (const AdamOptions& o : {AdamOptions{.lr = 0.1}, AdamOptions{.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99,
                                                                      .eps = 1e-6, .weight_decay = 0.1}})
    EXPECT_LT(max_abs_diff(run_adam<Adam>(q, o, 6), reference_adam(q, o, false, 6)), 1e-12);
}

TEST(AdamW, DecouplesWeightDecay) {
  const Quadratic q({4, 2});
  const AdamOptions o{.lr = 0.1, .weight_decay = 0.2};
  const Values decoupled = run_adam<AdamW>(q, o, 6);
  EXPECT_LT(max_abs_diff(decoupled, reference_adam(q, o, true, 6)), 1e-12);
  EXPECT_GT(max_abs_diff(decoupled, run_adam<Adam>(q, o, 6)), 1e-3);  // not Adam's L2 decay
}

TEST(Adam, FloatAndLargeThreadedParametersMatchReference) {
  const Quadratic small({9}), large({50000});
  const AdamOptions o{.lr = 0.05, .weight_decay = 0.01};
  EXPECT_LT(max_abs_diff(run_adam<AdamW>(small, o, 5, DType::F32), reference_adam(small, o, true, 5)), 1e-5);
  EXPECT_LT(max_abs_diff(run_adam<Adam>(large, o, 3, DType::F32), reference_adam(large, o, false, 3)), 1e-5);
  EXPECT_LT(max_abs_diff(run_adam<Adam>(small, o, 3, DType::BF16), reference_adam(small, o, false, 3)), 3e-2);
}

TEST(Adam, ReachesTheMinimumWithADecayingLearningRate) {
  const Quadratic q({6});
  for (bool decoupled : {false, true}) {
    Values p = run_steps(q, 600, [&](std::vector<Tensor> ps) -> std::unique_ptr<Optimizer> {
      std::unique_ptr<Optimizer> opt;
      if (decoupled)
        opt = std::make_unique<AdamW>(ps, AdamOptions{.lr = 0.1, .weight_decay = 0});
      else
        opt = std::make_unique<Adam>(ps, AdamOptions{.lr = 0.1});
      opt->set_schedule(cosine_schedule(600));
      return opt;
    });
    EXPECT_LT(max_abs_diff(p, q.c), 1e-4);
  }
}

TEST(Adam, RejectsBadHyperParameters) {
  Tensor p = zeros({2}).set_requires_grad();
  testing::expect_error([&] { Adam({p}, {.beta1 = 1.0}); }, "Adam: betas must be below 1");
  testing::expect_error([&] { AdamW({p}, {.eps = -1}); }, "AdamW: eps must be >= 0, got -1");
}

}  // namespace
}  // namespace ember
