#include <cmath>

#include "tests/optim/quadratic.h"

namespace ember {
namespace {

TEST(ClipGradNorm, ScalesAllGradientsToTheGlobalNorm) {
  Tensor a = zeros({2}).set_requires_grad(), b = zeros({2, 2}, {.dtype = DType::F64}).set_requires_grad();
  Tensor no_grad = zeros({3}).set_requires_grad();
  a.set_grad(from_vector<float>({3, 4}, {2}));
  b.set_grad(from_vector<double>({1, 2, 2, 4}, {2, 2}));
  const double total = clip_grad_norm({a, b, no_grad}, 2.0);  // sqrt(25 + 25)
  EXPECT_DOUBLE_EQ(total, std::sqrt(50.0));
  const double scale = 2.0 / (std::sqrt(50.0) + 1e-6);
  const std::vector<double> ga = a.grad().to_vector<double>(), gb = b.grad().to_vector<double>();
  EXPECT_NEAR(ga[0], 3 * scale, 1e-6);
  EXPECT_NEAR(ga[1], 4 * scale, 1e-6);
  EXPECT_NEAR(gb[3], 4 * scale, 1e-12);
  EXPECT_NEAR(clip_grad_norm({a, b}, 2.0), 2.0, 1e-5);
  EXPECT_FALSE(no_grad.grad().defined());
}

TEST(ClipGradNorm, LeavesSmallGradientsAloneAndReadsBf16Exactly) {
  Tensor p = zeros({4}, {.dtype = DType::BF16}).set_requires_grad();
  p.set_grad(from_vector<float>({0.5, -0.5, 0.5, -0.5}, {4}, {.dtype = DType::BF16}));
  EXPECT_DOUBLE_EQ(clip_grad_norm({p}, 10.0), 1.0);
  EXPECT_EQ(p.grad().to_vector<float>(), (std::vector<float>{0.5, -0.5, 0.5, -0.5}));
  EXPECT_EQ(clip_grad_norm({zeros({2}).set_requires_grad()}, 1.0), 0.0);
}

TEST(ClipGradNorm, RejectsANonPositiveMaximum) {
  testing::expect_error([] { clip_grad_norm({}, 0.0); }, "clip_grad_norm: max_norm must be positive, got 0");
}

}  // namespace
}  // namespace ember
