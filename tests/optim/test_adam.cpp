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
  Values p = q.start(), m(p.size()), v(p.size()), v_max(p.size());
  for (int t = 1; t <= steps; ++t) {
    Values g0 = q.grad(p);
    if (o.maximize)
      for (double& g : g0) g = -g;
    const double correction1 = 1 - std::pow(o.beta1, t), correction2 = 1 - std::pow(o.beta2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      double g = g0[i];
      if (decoupled)
        p[i] *= 1 - o.lr * o.weight_decay;
      else
        g += o.weight_decay * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      v_max[i] = std::max(v_max[i], v[i]);
      const double second = o.amsgrad ? v_max[i] : v[i];
      p[i] -= o.lr / correction1 * m[i] / (std::sqrt(second) / std::sqrt(correction2) + o.eps);
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

// AMSGrad and maximize against PyTorch's update written out (torch.optim.Adam(amsgrad=True,
// maximize=True) follows the same lines), for Adam and AdamW, f64 and f32, and a quadratic whose
// gradients shrink, so that the running maximum of v differs from v.
TEST(Adam, AmsgradAndMaximizeMatchReference) {
  const Quadratic q({3, 5});
  for (bool decoupled : {false, true})
    for (bool amsgrad : {false, true})
      for (bool maximize : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "decoupled " << decoupled << " amsgrad " << amsgrad << " maximize " << maximize);
        const AdamOptions o{.lr = 0.1, .beta1 = 0.8, .beta2 = 0.9, .eps = 1e-6, .weight_decay = 0.05,
                            .amsgrad = amsgrad, .maximize = maximize};
        const Values want = reference_adam(q, o, decoupled, 12);
        const Values got = decoupled ? run_adam<AdamW>(q, o, 12) : run_adam<Adam>(q, o, 12);
        EXPECT_LT(max_abs_diff(got, want), 1e-12);
        const Values got32 = decoupled ? run_adam<AdamW>(q, o, 12, DType::F32) : run_adam<Adam>(q, o, 12, DType::F32);
        EXPECT_LT(max_abs_diff(got32, want), 1e-4);
      }
  // AMSGrad really differs here (v falls as the gradients shrink near the minimum).
  const AdamOptions plain{.lr = 0.1, .beta2 = 0.5}, ams{.lr = 0.1, .beta2 = 0.5, .amsgrad = true};
  EXPECT_GT(max_abs_diff(reference_adam(q, plain, false, 30), reference_adam(q, ams, false, 30)), 1e-3);
  EXPECT_LT(max_abs_diff(run_adam<Adam>(q, ams, 30), reference_adam(q, ams, false, 30)), 1e-12);
}

// The AMSGrad state is saved and restored with the rest.
TEST(Adam, AmsgradStateIsSaved) {
  Tensor p = ones({3}, {.dtype = DType::F64}).set_requires_grad();
  Adam opt({p}, {.lr = 0.1, .amsgrad = true});
  p.set_grad(full({3}, 2.0, {.dtype = DType::F64}));
  opt.step();
  bool found = false;
  for (const auto& [name, t] : opt.state_tensors())
    if (name == "0.max_exp_avg_sq") {
      found = true;
      EXPECT_NEAR(t.to_vector<double>()[0], 0.001 * 4, 1e-15);
    }
  EXPECT_TRUE(found);
}

TEST(Adam, RejectsBadHyperParameters) {
  Tensor p = zeros({2}).set_requires_grad();
  testing::expect_error([&] { Adam({p}, {.beta1 = 1.0}); }, "Adam: betas must be below 1");
  testing::expect_error([&] { AdamW({p}, {.eps = -1}); }, "AdamW: eps must be >= 0, got -1");
}

}  // namespace
}  // namespace ember
