#include <cmath>
#include <cstring>
#include <limits>

#include "backends/cpu/vec_math.h"
#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

// A non-contiguous f64 leaf: every other column of a wider buffer.
Tensor sliced_leaf(const Shape& shape) {
  Shape wide = shape;
  wide.back() *= 2;
  return detach(slice(randn(wide, {.dtype = DType::F64}), -1, 0, wide.back(), 2)).set_requires_grad();
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

using ::ember::testing::expect_error;

TEST(Softmax, GradientsAlongAnyDimAndLayout) {
  for (auto* op : {&softmax, &log_softmax}) {
    auto along = [op](int64_t dim) { return [op, dim](const Inputs& in) { return op(in[0], dim); }; };
    EXPECT_GRADCHECK(along(-1), {leaf({3, 5})});
    EXPECT_GRADCHECK(along(0), {leaf({4, 3})});
    EXPECT_GRADCHECK(along(1), {leaf({2, 3, 4})});
    EXPECT_GRADCHECK(along(-1), {transposed_leaf({3, 4})});
    EXPECT_GRADCHECK(along(0), {sliced_leaf({3, 4})});
    EXPECT_GRADCHECK(along(0), {leaf({6})});
  }
}

TEST(Softmax, ForwardValues) {
  Tensor x = from_vector<double>({1, 2, 3}, {3});
  expect_near(softmax(x).to_vector<double>(), {0.09003057317038046, 0.24472847105479764, 0.6652409557748219}, 1e-12);
  expect_near(log_softmax(x).to_vector<double>(), {-2.40760596444438, -1.40760596444438, -0.40760596444438}, 1e-12);
  // Large and infinite logits stay finite.
  Tensor big = from_vector<float>({1000, 1000, -std::numeric_limits<float>::infinity()}, {3});
  EXPECT_EQ(softmax(big).to_vector<float>(), (std::vector<float>{0.5f, 0.5f, 0.0f}));
  // Along dim 0 each column sums to 1.
  Tensor cols = sum(softmax(randn({5, 7}), 0), {0});
  expect_near(to(cols, DType::F64).to_vector<double>(), std::vector<double>(7, 1.0), 1e-6);
}

TEST(Softmax, Float32KernelMatchesFloat64) {
  // Enough rows to take the parallel path, wide enough logits to exercise vexp's whole range.
  Tensor x = randn({64, 1000}, {.dtype = DType::F64}) * 20.0;
  for (auto* op : {&softmax, &log_softmax}) {
    std::vector<double> want = op(x, -1).to_vector<double>();
    std::vector<double> got = to(op(to(x, DType::F32), -1), DType::F64).to_vector<double>();
    for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5 * (1 + std::abs(want[i]))) << i;
  }
  Tensor xf = to(x, DType::F32).set_requires_grad();
  Tensor w = randn({64, 1000});
  backward(sum(softmax(xf) * w));
  Tensor xd = detach(x).set_requires_grad();
  backward(sum(softmax(xd) * to(w, DType::F64)));
  expect_near(to(xf.grad(), DType::F64).to_vector<double>(), xd.grad().to_vector<double>(), 1e-5);
}

TEST(Softmax, Errors) {
  expect_error([] { softmax(zeros({2, 3}), 2); }, "softmax: dim 2 is out of range for a tensor of rank 2");
  expect_error([] { log_softmax(zeros({2}, {.dtype = DType::I64})); }, "log_softmax: expected a floating tensor");
}

TEST(LayerNorm, GradientsWithAndWithoutAffine) {
  EXPECT_GRADCHECK([](const Inputs& in) { return layer_norm(in[0], {4}, in[1], in[2]); },
                   {leaf({2, 3, 4}), leaf({4}), leaf({4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return layer_norm(in[0], {3, 4}, in[1], in[2]); },
                   {leaf({2, 3, 4}), leaf({3, 4}), leaf({3, 4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return layer_norm(in[0], {5}); }, {leaf({3, 5})});
  EXPECT_GRADCHECK([](const Inputs& in) { return layer_norm(in[0], {3}, in[1]); }, {transposed_leaf({4, 3}), leaf({3})});
  // A strided weight, and a weight that needs no gradient.
  EXPECT_GRADCHECK([](const Inputs& in) { return layer_norm(in[0], {3}, in[1], in[2]); },
                   {transposed_leaf({4, 3}), sliced_leaf({3}), leaf({3})});
  EXPECT_GRADCHECK([](const Inputs& in) { return layer_norm(in[0], {3}, in[1], in[2]); },
                   {leaf({2, 3}), randn({3}, {.dtype = DType::F64}), leaf({3})});
  EXPECT_GRADCHECK([](const Inputs& in) { return layer_norm(in[0], {4}, {}, in[1]); }, {sliced_leaf({3, 4}), leaf({4})});
}

TEST(LayerNorm, ForwardValues) {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {1, 4});
  const double rs = 1 / std::sqrt(1.25 + 1e-5);
  expect_near(layer_norm(x, {4}).to_vector<double>(), {-1.5 * rs, -0.5 * rs, 0.5 * rs, 1.5 * rs}, 1e-12);
  Tensor w = from_vector<double>({1, 2, 1, 2}, {4}), b = from_vector<double>({0, 0, 1, 1}, {4});
  expect_near(layer_norm(x, {4}, w, b, 0.0).to_vector<double>(), {-1.5 / std::sqrt(1.25), -1 / std::sqrt(1.25),
                                                                  1 + 0.5 / std::sqrt(1.25), 1 + 3 / std::sqrt(1.25)},
              1e-12);
}

TEST(LayerNorm, LargeFloat32MatchesComposedOps) {
  // Many rows: the parallel path, and per-thread partial sums for gw and gb.
  Tensor x = (randn({300, 128}) * 3.0 + 1.0).set_requires_grad();
  Tensor w = randn({128}).set_requires_grad(), b = randn({128}).set_requires_grad();
  Tensor up = randn({300, 128});
  backward(sum(layer_norm(x, {128}, w, b) * up));
  Tensor x2 = detach(x).set_requires_grad(), w2 = detach(w).set_requires_grad(), b2 = detach(b).set_requires_grad();
  Tensor centred = x2 - mean(x2, {-1}, true);
  Tensor ref = centred * rsqrt(mean(centred * centred, {-1}, true) + 1e-5) * w2 + b2;
  backward(sum(ref * up));
  expect_near(to(x.grad(), DType::F64).to_vector<double>(), to(x2.grad(), DType::F64).to_vector<double>(), 2e-4);
  expect_near(to(w.grad(), DType::F64).to_vector<double>(), to(w2.grad(), DType::F64).to_vector<double>(), 2e-3);
  expect_near(to(b.grad(), DType::F64).to_vector<double>(), to(b2.grad(), DType::F64).to_vector<double>(), 2e-3);
}

TEST(LayerNorm, Errors) {
  expect_error([] { layer_norm(zeros({2, 4}), {3}); },
               "layer_norm: normalized_shape [3] does not match the trailing dims of input [2,4]");
  expect_error([] { layer_norm(zeros({2, 4}), {4}, zeros({3})); },
               "layer_norm: weight of shape [3] differs from normalized_shape [4]");
  EXPECT_THROW(layer_norm(zeros({2, 4}), {}), Error);
  EXPECT_THROW(layer_norm(zeros({2, 4}), {4}, {}, zeros({4}, {.dtype = DType::F64})), Error);
}

TEST(Dropout, KeepsAboutOneMinusPAndScalesThem) {
  const double p = 0.3;
  Tensor x = ones({200000});
  std::vector<float> y = dropout(x, p, true).to_vector<float>();
  int64_t kept = 0;
  for (float v : y) {
    if (v != 0) {
      ++kept;
      ASSERT_FLOAT_EQ(v, static_cast<float>(1 / (1 - p)));
    }
  }
  EXPECT_NEAR(static_cast<double>(kept) / static_cast<double>(y.size()), 1 - p, 0.005);
}

TEST(Dropout, IdentityInEvalOrAtZeroAndZerosAtOne) {
  Tensor x = randn({4, 5});
  EXPECT_TRUE(dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(dropout(x, 0.0, true).is_same(x));
  EXPECT_EQ(dropout(x, 1.0, true).to_vector<float>(), std::vector<float>(20, 0.0f));
}

TEST(Dropout, SeedGivesTheSameMaskAndGradientUsesIt) {
  Tensor x = randn({1000}, {.dtype = DType::F64}).set_requires_grad();
  manual_seed(42);
  Tensor a = dropout(x, 0.5, true);
  manual_seed(42);
  Tensor b = dropout(x, 0.5, true);
  Tensor c = dropout(x, 0.5, true);
  EXPECT_EQ(a.to_vector<double>(), b.to_vector<double>());
  EXPECT_NE(a.to_vector<double>(), c.to_vector<double>());
  backward(sum(a));
  std::vector<double> g = x.grad().to_vector<double>(), xs = x.to_vector<double>(), as = a.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) EXPECT_DOUBLE_EQ(g[i] * xs[i], as[i]) << i;
  EXPECT_GRADCHECK([](const Inputs& in) { manual_seed(7); return dropout(in[0], 0.4, true); }, {transposed_leaf({3, 4})});
}

TEST(Dropout, Errors) {
  expect_error([] { dropout(ones({2, 3}), 1.5, true); }, "dropout: probability 1.5 is outside [0, 1] (input [2,3])");
  EXPECT_THROW(dropout(ones({2}), -0.1, false), Error);
}

// Distance in units in the last place between two floats (denormals included).
int64_t ulp_distance(float a, float b) {
  auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? -static_cast<int64_t>(i & 0x7fffffff) : static_cast<int64_t>(i);
  };
  return std::abs(ordered(a) - ordered(b));
}

TEST(VecMath, ExpWithinTwoUlpOverTheWholeRange) {
  int64_t worst = 0;
  float worst_at = 0;
  for (int i = 0; i <= 400000; ++i) {
    const float x = -110.0f + 200.0f * static_cast<float>(i) / 400000.0f;
    const int64_t d = ulp_distance(cpu::vexp(x), static_cast<float>(std::exp(static_cast<double>(x))));
    if (d > worst) worst = d, worst_at = x;
  }
  EXPECT_LE(worst, 2) << "at x = " << worst_at;
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(cpu::vexp(-inf), 0.0f);
  EXPECT_EQ(cpu::vexp(inf), inf);
  EXPECT_EQ(cpu::vexp(89.0f), inf);
  EXPECT_EQ(cpu::vexp(-104.0f), 0.0f);
  EXPECT_EQ(cpu::vexp(0.0f), 1.0f);
  EXPECT_TRUE(std::isnan(cpu::vexp(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(cpu::vexp(-103.0f), static_cast<float>(std::exp(-103.0)));  // a denormal
}

}  // namespace
}  // namespace ember
