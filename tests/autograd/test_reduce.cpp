#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;
using Dims = std::vector<int64_t>;
using Reducer = std::function<Tensor(const Tensor&, const Dims&, bool)>;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A random f64 leaf that is a strided slice (every other element of the last dim).
Tensor sliced_leaf(const Shape& shape) {
  Shape wide = shape;
  wide.back() *= 2;
  return detach(slice(randn(wide, {.dtype = DType::F64}), -1, 0, wide.back(), 2)).set_requires_grad();
}

// Dims sets over a rank-3 tensor, including negative dims and the empty set (all dims).
const std::vector<Dims>& dims_sets() {
  static const std::vector<Dims> sets{{}, {0}, {-1}, {1}, {0, 2}, {2, -3}, {-2, 0, 2}};
  return sets;
}

// A rank-3 shape with random sizes in [2, 5] (an unbiased variance needs two elements).
Shape random_shape() { return randint(2, 6, {3}).to_vector<int64_t>(); }

// Gradchecks `op` for every dims set, keepdim true and false, on [3, 4, 5] and a random
// shape, contiguous, transposed and sliced, and (unless the op has no gradient where the
// reduced values are all equal) on a stride-0 (expanded) input.
void expect_gradcheck_over_dims(const Reducer& op, bool expanded = true) {
  for (const Shape& shape : {Shape{3, 4, 5}, random_shape()}) {
    for (const Dims& dims : dims_sets()) {
      for (bool keepdim : {false, true}) {
        for (const Tensor& x : {leaf(shape), transposed_leaf(shape), sliced_leaf(shape)}) {
          SCOPED_TRACE(::testing::Message() << "shape " << shape << " dims " << dims << " keepdim " << keepdim
                                            << " strides " << x.strides());
          EXPECT_GRADCHECK([&](const Inputs& in) { return op(in[0], dims, keepdim); }, {x});
        }
        if (!expanded) continue;
        SCOPED_TRACE(::testing::Message() << "expanded, dims " << dims << " keepdim " << keepdim);
        EXPECT_GRADCHECK([&](const Inputs& in) { return op(expand(in[0], {3, 4, 5}), dims, keepdim); },
                         {leaf({3, 1, 5})});
      }
    }
  }
}

// The message of the ember::Error that f throws.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

#define EXPECT_ERROR_CONTAINS(f, text) EXPECT_NE(error_of(f).find(text), std::string::npos) << error_of(f)

std::vector<double> values_of(const Tensor& t) { return t.to_vector<double>(); }

Tensor f64(const std::vector<double>& values, const Shape& shape) { return from_vector(values, shape); }

TEST(Reduce, SumAndMeanGradients) {
  expect_gradcheck_over_dims([](const Tensor& x, const Dims& d, bool k) { return sum(x, d, k); });
  expect_gradcheck_over_dims([](const Tensor& x, const Dims& d, bool k) { return mean(x, d, k); });
  EXPECT_GRADCHECK([](const Inputs& in) { return sum(in[0]) * mean(in[0]); }, {leaf({2, 3})});
}

TEST(Reduce, SumAndMeanValuesAndShapes) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(values_of(sum(x, {0})), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(values_of(sum(x, {-1})), (std::vector<double>{6, 15}));
  EXPECT_EQ(sum(x).item(), 21);
  EXPECT_EQ(sum(x).dim(), 0);
  EXPECT_EQ(values_of(mean(x, {1})), (std::vector<double>{2, 5}));
  EXPECT_EQ(mean(x, {1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(sum(x, {0, 1}, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(values_of(sum(transpose(x, 0, 1), {1})), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum(zeros({2, 0}), {1}).to_vector<float>(), (std::vector<float>{0, 0}));
  EXPECT_TRUE(std::isnan(mean(zeros({0})).item()));
  EXPECT_EQ(sum(scalar(2.5), {0}).item(), 2.5);  // a 0-d tensor reduces over nothing
}

TEST(Reduce, SumToUndoesBroadcasting) {
  Tensor g = ones({2, 3, 4}, {.dtype = DType::F64});
  Tensor s = sum_to(g, {3, 1});
  EXPECT_EQ(s.shape(), (Shape{3, 1}));
  EXPECT_EQ(values_of(s), (std::vector<double>{8, 8, 8}));
  EXPECT_TRUE(sum_to(g, {2, 3, 4}).is_same(g));
  EXPECT_GRADCHECK([](const Inputs& in) { return sum_to(in[0], {4}); }, {transposed_leaf({3, 4})});
}

TEST(Reduce, MaxAndMinGradients) {
  expect_gradcheck_over_dims([](const Tensor& x, const Dims& d, bool k) { return max(x, d, k); });
  expect_gradcheck_over_dims([](const Tensor& x, const Dims& d, bool k) { return min(x, d, k); });
}

TEST(Reduce, MaxAndMinValues) {
  Tensor x = from_vector<float>({1, 7, -3, 4, 7, 0}, {2, 3});
  EXPECT_EQ(max(x).item(), 7);
  EXPECT_EQ(min(x).item(), -3);
  EXPECT_EQ(max(x, {0}).to_vector<float>(), (std::vector<float>{4, 7, 0}));
  EXPECT_EQ(min(x, {-1}).to_vector<float>(), (std::vector<float>{-3, 0}));
  EXPECT_EQ(max(x, {1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(max(x, {}).item(), 7);
  EXPECT_EQ(max(from_vector<int64_t>({3, -9, 5}, {3})).item(), 5);
  Tensor inf = f64({-kInf, -kInf}, {2});
  EXPECT_EQ(max(inf).item(), -kInf);
}

TEST(Reduce, MaxAndMinPropagateNaN) {
  for (const Shape& shape : {Shape{4, 3}, Shape{200, 300}}) {
    for (int64_t dim : {0, 1}) {
      std::vector<float> v = rand(shape).to_vector<float>();
      v[static_cast<size_t>(shape[1] + 1)] = std::numeric_limits<float>::quiet_NaN();  // row 1, column 1
      Tensor x = from_vector(v, shape);
      for (const Tensor& r : {max(x, {dim}), min(x, {dim})}) {
        std::vector<float> out = r.to_vector<float>();
        for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(std::isnan(out[i]), i == 1) << "dim " << dim << " at " << i;
      }
      EXPECT_TRUE(std::isnan(max(x).item()));
      EXPECT_TRUE(std::isnan(min(x).item()));
    }
  }
}

TEST(Reduce, MaxGradientIsSplitAmongTies) {
  Tensor x = f64({1, 3, 3, 2, 5, 5, 5, 0}, {2, 4}).set_requires_grad();
  backward(sum(max(x, {1})));
  EXPECT_EQ(values_of(x.grad()), (std::vector<double>{0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0}));
  Tensor y = f64({2, -1, -1}, {3}).set_requires_grad();
  backward(min(y) * 4.0);
  EXPECT_EQ(values_of(y.grad()), (std::vector<double>{0, 2, 2}));
}

TEST(Reduce, ArgmaxAndArgmin) {
  Tensor x = from_vector<float>({1, 7, -3, 7, 4, -3}, {2, 3});
  EXPECT_EQ(argmax(x, 1).dtype(), DType::I64);
  EXPECT_EQ(argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));  // first of ties
  EXPECT_EQ(argmin(x, -1).to_vector<int64_t>(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(argmax(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0}));
  EXPECT_EQ(argmax(x, 0, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(argmax(transpose(x, 0, 1), 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(argmax(f64({1, kNaN, 5, kNaN}, {4}), 0).item(), 1);
  EXPECT_EQ(argmin(scalar(3.0), 0).item(), 0);
  EXPECT_FALSE(argmax(leaf({3, 2}), 0).requires_grad());
}

TEST(Reduce, VarAndStddevGradients) {
  for (bool unbiased : {true, false}) {
    expect_gradcheck_over_dims([unbiased](const Tensor& x, const Dims& d, bool k) { return var(x, d, unbiased, k); });
    expect_gradcheck_over_dims([unbiased](const Tensor& x, const Dims& d, bool k) { return stddev(x, d, unbiased, k); },
                               false);
  }
}

TEST(Reduce, VarAndStddevValues) {
  Tensor x = f64({1, 2, 3, 4, 2, 2, 2, 6}, {2, 4});
  EXPECT_NEAR(var(x, {}).item(), 2.5, 1e-12);  // mean 2.75, squared deviations 17.5 over 7
  EXPECT_NEAR(var(x, {}, false).item(), 17.5 / 8, 1e-12);
  std::vector<double> v = values_of(var(x, {1}));
  EXPECT_NEAR(v[0], 5.0 / 3, 1e-12);
  EXPECT_NEAR(v[1], 4.0, 1e-12);
  std::vector<double> s = values_of(stddev(x, {-1}, false, true));
  EXPECT_NEAR(s[0], std::sqrt(1.25), 1e-12);
  EXPECT_NEAR(s[1], std::sqrt(3.0), 1e-12);
  EXPECT_EQ(stddev(x, {-1}, false, true).shape(), (Shape{2, 1}));
  EXPECT_TRUE(std::isnan(var(f64({4}, {1}), {0}).item()));  // n - 1 = 0
}

// PyTorch: torch.full((15,), 0.1, dtype=float64).expand(...).std() is exactly 0, and the
// gradient of std at a constant slice is 0 (its std_backward masks result == 0), not NaN.
TEST(Reduce, StddevOfAConstantIsZeroWithZeroGradient) {
  for (double v : {0.1, 1.0 / 3, -7.3, 1e10}) {
    SCOPED_TRACE(v);
    Tensor base = full({1}, v, {.dtype = DType::F64}).set_requires_grad();
    Tensor x = expand(base, {15});
    Tensor s = stddev(x, {0});
    EXPECT_EQ(s.item(), 0.0);
    EXPECT_EQ(var(x, {0}).item(), 0.0);
    EXPECT_EQ(var(x, {0}, false).item(), 0.0);
    backward(s);
    EXPECT_EQ(base.grad().item(), 0.0);
    // f32 likewise.
    Tensor x32 = expand(full({1}, v, {.dtype = DType::F32}), {3, 15});
    EXPECT_EQ(stddev(x32, {1}).to_vector<double>(), (std::vector<double>{0, 0, 0}));
  }
  // Mixed: one constant row, one varying; the constant row's gradient is 0, the other's finite
  // ((x - mean) / ((n - 1) std) per element: row [1, 2, 3] has std 1, gradient [-0.5, 0, 0.5]).
  Tensor x = from_vector<double>({2, 2, 2, 1, 2, 3}, {2, 3}).set_requires_grad();
  Tensor s = stddev(x, {1});
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{0, 1}));
  backward(sum(s));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 0, -0.5, 0, 0.5}));
}

// PyTorch's integer correction: torch.var(x, dim=1, correction=c) divides by n - c.
// x = [[1, 2, 3, 4], [2, 2, 2, 6]]: squared deviations 5 and 12.
TEST(Reduce, VarAndStddevWithIntegerCorrection) {
  Tensor x = f64({1, 2, 3, 4, 2, 2, 2, 6}, {2, 4});
  for (int64_t c : {0, 1, 2, 3}) {
    SCOPED_TRACE(c);
    std::vector<double> v = values_of(var(x, {1}, Correction{c}));
    EXPECT_NEAR(v[0], 5.0 / static_cast<double>(4 - c), 1e-14);
    EXPECT_NEAR(v[1], 12.0 / static_cast<double>(4 - c), 1e-14);
    std::vector<double> sd = values_of(stddev(x, {1}, Correction{c}, true));
    EXPECT_NEAR(sd[1], std::sqrt(12.0 / static_cast<double>(4 - c)), 1e-14);
  }
  EXPECT_TRUE(std::isinf(var(x, {1}, Correction{4}).to_vector<double>()[0]));  // n - c = 0: 5 / 0
  EXPECT_TRUE(std::isinf(var(x, {1}, Correction{5}).to_vector<double>()[0]));  // clamped at 0, as PyTorch
  EXPECT_EQ(values_of(var(x, {1}, Correction{1})), values_of(var(x, {1}, true)));
  EXPECT_THROW(var(x, {1}, Correction{-1}), Error);
  expect_gradcheck_over_dims([](const Tensor& t, const Dims& d, bool k) { return var(t, d, Correction{0}, k); });
  expect_gradcheck_over_dims([](const Tensor& t, const Dims& d, bool k) { return stddev(t, d, Correction{0}, k); },
                             false);
  // Correction 2 needs more than 2 elements per slice (the random shapes have dims of 2).
  for (const Dims& d : {Dims{1}, Dims{0, 1}}) {
    EXPECT_GRADCHECK([d](const Inputs& in) { return var(in[0], d, Correction{2}); }, {leaf({4, 6})});
    EXPECT_GRADCHECK([d](const Inputs& in) { return stddev(in[0], d, Correction{2}, true); }, {transposed_leaf({4, 6})});
  }
}

// The compensated two-pass sum is accurate where the naive one-pass formula cancels: values
// 1e9 + {0, 1, 2} have variance 1 exactly.
TEST(Reduce, VarIsAccurateWithALargeOffset) {
  Tensor x = f64({1e9, 1e9 + 1, 1e9 + 2}, {3});
  EXPECT_EQ(var(x, {0}).item(), 1.0);
  Tensor y = to(from_vector<double>({1e4, 1e4 + 1, 1e4 + 2}, {3}), DType::F32);
  EXPECT_NEAR(var(y, {0}).item(), 1.0, 1e-6);
}

TEST(Reduce, LogsumexpGradients) {
  expect_gradcheck_over_dims([](const Tensor& x, const Dims& d, bool k) { return logsumexp(x, d, k); });
}

TEST(Reduce, LogsumexpIsStable) {
  Tensor x = from_vector<float>({1000, 1000, -1000, -1000}, {2, 2});
  std::vector<float> v = logsumexp(x, {1}).to_vector<float>();
  EXPECT_NEAR(v[0], 1000 + std::log(2.0), 1e-3);
  EXPECT_NEAR(v[1], -1000 + std::log(2.0), 1e-3);
  EXPECT_NEAR(logsumexp(f64({1, 2, 3}, {3}), {}).item(), std::log(std::exp(1) + std::exp(2) + std::exp(3)), 1e-12);
  EXPECT_EQ(logsumexp(f64({-kInf, -kInf}, {2}), {0}).item(), -kInf);
  EXPECT_EQ(logsumexp(f64({kInf, 1}, {2}), {0}).item(), kInf);
  EXPECT_EQ(logsumexp(zeros({3, 0}), {1}).to_vector<float>(), (std::vector<float>(3, -INFINITY)));
  Tensor big = f64({800, 800}, {2}).set_requires_grad();
  backward(logsumexp(big, {0}));
  EXPECT_EQ(values_of(big.grad()), (std::vector<double>{0.5, 0.5}));
}

struct Reference {
  std::vector<double> sum, max;
  std::vector<int64_t> argmax;  // the coordinate along dims[0] of the first maximum
};

// Reductions over `dims` of a row-major f32 array of `shape`, in f64, the plain way.
Reference reference(const std::vector<float>& x, const Shape& shape, const Dims& dims) {
  Shape kept = shape;
  for (int64_t d : dims) kept[static_cast<size_t>(d)] = 1;
  const size_t outputs = static_cast<size_t>(numel_of(kept));
  Reference r{std::vector<double>(outputs, 0.0), std::vector<double>(outputs, -kInf), std::vector<int64_t>(outputs, -1)};
  for (int64_t i = 0; i < numel_of(shape); ++i) {
    int64_t rem = i, o = 0, scale = 1, along = 0;
    for (size_t d = shape.size(); d-- > 0;) {
      const int64_t coord = rem % shape[d];
      if (static_cast<int64_t>(d) == dims[0]) along = coord;
      o += coord % kept[d] * scale;
      scale *= kept[d];
      rem /= shape[d];
    }
    const size_t k = static_cast<size_t>(o);
    const double v = x[static_cast<size_t>(i)];
    r.sum[k] += v;
    if (v > r.max[k]) {
      r.max[k] = v;
      r.argmax[k] = along;
    }
  }
  return r;
}

enum class Layout { Contiguous, Transposed, Sliced };

// A random f32 tensor of `shape`: contiguous, the transpose of a [shape[1], shape[0]] buffer,
// or every other element of the last dim of a wider buffer.
Tensor f32_with_layout(const Shape& shape, Layout layout) {
  Shape stored = shape;
  if (layout == Layout::Transposed) std::swap(stored[0], stored[1]);
  if (layout == Layout::Sliced) stored.back() *= 2;
  Tensor base = randn(stored);
  if (layout == Layout::Transposed) return transpose(base, 0, 1);
  if (layout == Layout::Sliced) return slice(base, -1, 0, stored.back(), 2);
  return base;
}

// Large enough for the parallel paths: full reductions split across threads, rows, columns
// (split across threads when there are few), several reduced dims, runs shorter and longer
// than the vector accumulators, non-contiguous inputs.
TEST(Reduce, LargeReductionsMatchAReference) {
  struct Case {
    Shape shape;
    Dims dims;
    Layout layout = Layout::Contiguous;
  };
  const std::vector<Case> cases{
      {{300001}, {0}},        {{70, 1000}, {1}},      {{70, 1000}, {0}},     {{20000, 3}, {0}},
      {{3, 20000}, {1}},      {{40, 30, 50}, {0, 2}}, {{40, 30, 50}, {1}},   {{50, 8, 100}, {0, 2}},
      {{8, 9000}, {0}},       {{2, 3}, {0, 1}},       {{300, 500}, {0}, Layout::Transposed},
      {{300, 500}, {1}, Layout::Transposed},          {{300, 500}, {0, 1}, Layout::Transposed},
      {{300, 500}, {1}, Layout::Sliced},              {{300, 500}, {0}, Layout::Sliced},
      {{40000}, {0}, Layout::Sliced}};
  for (const Case& c : cases) {
    Tensor x = f32_with_layout(c.shape, c.layout);
    SCOPED_TRACE(::testing::Message() << "shape " << c.shape << " dims " << c.dims << " strides " << x.strides());
    std::vector<float> values = contiguous(x).to_vector<float>();
    Reference want = reference(values, c.shape, c.dims);
    std::vector<float> got_sum = sum(x, c.dims).to_vector<float>();
    std::vector<float> got_max = max(x, c.dims).to_vector<float>();
    std::vector<float> got_bf16 = sum(to(x, DType::BF16), c.dims).to_vector<float>();
    const bool one_dim = c.dims.size() == 1;
    std::vector<int64_t> got_argmax = one_dim ? argmax(x, c.dims[0]).to_vector<int64_t>() : std::vector<int64_t>{};
    ASSERT_EQ(got_sum.size(), want.sum.size());
    const double count = static_cast<double>(x.numel()) / static_cast<double>(want.sum.size());
    for (size_t i = 0; i < want.sum.size(); ++i) {
      EXPECT_NEAR(got_sum[i], want.sum[i], 1e-5 * count) << "at " << i;
      EXPECT_NEAR(got_bf16[i], want.sum[i], 2e-2 * count) << "at " << i;
      EXPECT_EQ(got_max[i], want.max[i]) << "at " << i;
      if (one_dim) {
        EXPECT_EQ(got_argmax[i], want.argmax[i]) << "at " << i;
      }
    }
  }
}

TEST(Reduce, ErrorsNameTheOpAndShape) {
  Tensor x = zeros({2, 3});
  EXPECT_ERROR_CONTAINS([&] { sum(x, {2}); }, "sum: dim 2 is out of range for shape [2,3]");
  EXPECT_ERROR_CONTAINS([&] { max(x, {-3}); }, "max: dim -3 is out of range for shape [2,3]");
  EXPECT_ERROR_CONTAINS([&] { argmin(x, 5); }, "argmin: dim 5 is out of range for shape [2,3]");
  EXPECT_ERROR_CONTAINS([&] { min(x, {1, -1}); }, "min: repeated dim in [1,-1] for shape [2,3]");
  EXPECT_ERROR_CONTAINS([&] { var(x, {0, 0}); }, "var: repeated dim");
  EXPECT_ERROR_CONTAINS([&] { max(zeros({0, 3}), {0}); }, "max: cannot reduce over an empty dimension of shape [0,3]");
  EXPECT_ERROR_CONTAINS([&] { min(zeros({0})); }, "min: cannot reduce over an empty dimension of shape [0]");
  EXPECT_ERROR_CONTAINS([&] { argmax(zeros({2, 0}), 1); }, "argmax: cannot reduce over an empty dimension");
  EXPECT_ERROR_CONTAINS([&] { sum(from_vector<int64_t>({1}, {1})); }, "sum: expected a floating tensor");
  EXPECT_EQ(max(zeros({0, 3}), {1}).shape(), (Shape{0}));  // nothing to reduce into: no error
}

}  // namespace
}  // namespace ember
