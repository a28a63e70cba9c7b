#include <cmath>
#include <functional>
#include <numbers>
#include <string>

#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::positive_leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;
using Adjust = std::function<double(double)>;

enum class Domain { Any, Positive, AwayFromZero, Clamp };

constexpr double kClampLo = -0.5, kClampHi = 0.7;

// Keeps v at least 0.05 away from `kink`, so finite differences never straddle it.
double away_from(double v, double kink) {
  if (std::abs(v - kink) >= 0.05) return v;
  return v < kink ? kink - 0.05 : kink + 0.05;
}

Adjust adjust_for(Domain domain) {
  switch (domain) {
    case Domain::Positive: return [](double v) { return std::abs(v) + 0.5; };
    case Domain::AwayFromZero: return [](double v) { return away_from(v, 0.0); };
    case Domain::Clamp: return [](double v) { return away_from(away_from(v, kClampLo), kClampHi); };
    case Domain::Any: break;
  }
  return [](double v) { return v; };
}

// A random f64 leaf in `domain`; when `transposed`, a non-contiguous view (the transpose of
// a buffer with the last two dims swapped).
Tensor domain_leaf(const Shape& shape, Domain domain, bool transposed = false, double scale = 1.0) {
  Shape stored = shape;
  if (transposed) std::swap(stored[stored.size() - 1], stored[stored.size() - 2]);
  std::vector<double> values = randn(stored, {.dtype = DType::F64}).to_vector<double>();
  Adjust adjust = adjust_for(domain);
  for (double& v : values) v = adjust(v * scale);
  Tensor t = from_vector(values, stored);
  return (transposed ? detach(transpose(t, -1, -2)) : t).set_requires_grad();
}

struct UnaryCase {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> reference;
  Domain domain = Domain::Any;
};

double sigmoid_ref(double v) { return 1 / (1 + std::exp(-v)); }

std::vector<UnaryCase> unary_cases() {
  const double k = std::sqrt(2 / std::numbers::pi);
  return {
      {"exp", [](const Tensor& x) { return exp(x); }, [](double v) { return std::exp(v); }},
      {"log", [](const Tensor& x) { return log(x); }, [](double v) { return std::log(v); }, Domain::Positive},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](double v) { return std::log1p(v); }, Domain::Positive},
      {"expm1", [](const Tensor& x) { return expm1(x); }, [](double v) { return std::expm1(v); }},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double v) { return std::sqrt(v); }, Domain::Positive},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double v) { return 1 / std::sqrt(v); }, Domain::Positive},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double v) { return std::abs(v); }, Domain::AwayFromZero},
      {"sin", [](const Tensor& x) { return sin(x); }, [](double v) { return std::sin(v); }},
      {"cos", [](const Tensor& x) { return cos(x); }, [](double v) { return std::cos(v); }},
      {"erf", [](const Tensor& x) { return erf(x); }, [](double v) { return std::erf(v); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double v) { return std::tanh(v); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, sigmoid_ref},
      {"relu", [](const Tensor& x) { return relu(x); }, [](double v) { return v > 0 ? v : 0.0; }, Domain::AwayFromZero},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); }, [](double v) { return v > 0 ? v : 0.1 * v; },
       Domain::AwayFromZero},
      {"leaky_relu(negative slope)", [](const Tensor& x) { return leaky_relu(x, -0.3); },
       [](double v) { return v > 0 ? v : -0.3 * v; }, Domain::AwayFromZero},
      {"gelu", [](const Tensor& x) { return gelu(x); },
       [](double v) { return 0.5 * v * (1 + std::erf(v / std::numbers::sqrt2)); }},
      {"gelu(tanh)", [](const Tensor& x) { return gelu(x, true); },
       [k](double v) { return 0.5 * v * (1 + std::tanh(k * (v + 0.044715 * v * v * v))); }},
      {"silu", [](const Tensor& x) { return silu(x); }, [](double v) { return v * sigmoid_ref(v); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }, [](double v) { return std::log1p(std::exp(v)); }},
      {"pow 3", [](const Tensor& x) { return pow(x, 3.0); }, [](double v) { return v * v * v; }},
      {"pow 2", [](const Tensor& x) { return pow(x, 2.0); }, [](double v) { return v * v; }},
      {"pow 0", [](const Tensor& x) { return pow(x, 0.0); }, [](double) { return 1.0; }},
      {"pow -1.5", [](const Tensor& x) { return pow(x, -1.5); }, [](double v) { return std::pow(v, -1.5); },
       Domain::Positive},
      {"clamp", [](const Tensor& x) { return clamp(x, kClampLo, kClampHi); },
       [](double v) { return std::min(std::max(v, kClampLo), kClampHi); }, Domain::Clamp},
  };
}

TEST(Unary, GradcheckOnContiguousAndTransposedInputs) {
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    auto f = [&c](const Inputs& in) { return c.op(in[0]); };
    EXPECT_GRADCHECK(f, {domain_leaf({3, 4}, c.domain)});
    EXPECT_GRADCHECK(f, {domain_leaf({2, 3, 5}, c.domain, /*transposed=*/true)});
    EXPECT_GRADCHECK(f, {domain_leaf({}, c.domain)});
  }
}

TEST(Unary, GradcheckOnWideRanges) {
  // Large |x| exercises the saturated branches of the stable softplus, sigmoid and tanh.
  for (const char* name : {"softplus", "sigmoid", "tanh", "silu", "gelu", "gelu(tanh)"}) {
    for (const UnaryCase& c : unary_cases()) {
      if (c.name != name) continue;
      SCOPED_TRACE(c.name);
      EXPECT_GRADCHECK([&c](const Inputs& in) { return c.op(in[0]); }, {domain_leaf({4, 6}, Domain::Any, true, 5.0)});
    }
  }
}

TEST(Unary, ForwardMatchesStdMath) {
  const std::vector<double> any{-2.5, -1.0, -0.25, 0.3, 1.0, 3.0}, positive{0.1, 0.5, 1.0, 2.0, 7.5};
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    const std::vector<double>& xs = c.domain == Domain::Positive ? positive : any;
    std::vector<double> y = c.op(from_vector(xs, {static_cast<int64_t>(xs.size())})).to_vector<double>();
    for (size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(y[i], c.reference(xs[i]), 1e-12) << "x = " << xs[i];
  }
}

TEST(Unary, LowPrecisionForwardIsCloseToF64) {
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    NoGradGuard no_grad;
    // Inputs exactly representable in bf16, so only the op's own rounding is measured.
    Tensor x = to(to(domain_leaf({5, 7}, c.domain, true, 2.0), DType::BF16), DType::F64);
    std::vector<double> want = c.op(x).to_vector<double>();
    for (auto [dtype, tol] : {std::pair{DType::F32, 1e-5}, std::pair{DType::BF16, 1e-2}}) {
      Tensor y = c.op(to(x, dtype));
      EXPECT_EQ(y.dtype(), dtype);
      std::vector<double> got = y.to_vector<double>();
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << dtype << " element " << i;
    }
  }
}

TEST(Unary, NanPropagates) {
  Tensor x = from_vector<double>({std::nan(""), 1}, {2});
  for (const Tensor& y : {relu(x), clamp(x, -0.5, 0.5), leaky_relu(x), abs(x)})
    EXPECT_TRUE(std::isnan(y.to_vector<double>()[0]));
}

// The gradient of sum(f(x)) at x.
std::vector<double> grad_at(const std::function<Tensor(const Tensor&)>& f, const std::vector<double>& xs) {
  Tensor x = from_vector(xs, {static_cast<int64_t>(xs.size())}).set_requires_grad();
  backward(sum(f(x)));
  return x.grad().to_vector<double>();
}

// The f32 kernels use their own erf (a rational approximation) and fused GELU derivatives:
// on a dense grid through the saturated tails they stay within float rounding of f64.
TEST(Unary, F32ErfAndGeluGradientsMatchF64OnADenseGrid) {
  std::vector<double> xs;
  for (double v = -9; v <= 9; v += 1.0 / 64) xs.push_back(v);
  xs.push_back(std::nan(""));
  const Shape shape{static_cast<int64_t>(xs.size())};
  std::vector<double> erf32 = erf(to(from_vector(xs, shape), DType::F32)).to_vector<double>();
  for (size_t i = 0; i + 1 < xs.size(); ++i) EXPECT_NEAR(erf32[i], std::erf(xs[i]), 5e-7) << "x = " << xs[i];
  EXPECT_TRUE(std::isnan(erf32.back()));
  xs.pop_back();
  for (bool tanh_approximation : {false, true}) {
    SCOPED_TRACE(tanh_approximation ? "gelu(tanh)" : "gelu");
    auto f = [tanh_approximation](const Tensor& x) { return gelu(x, tanh_approximation); };
    const std::vector<double> want = grad_at(f, xs);
    const std::vector<double> got =
        grad_at([&f](const Tensor& x) { return f(to(x, DType::F32)); }, xs);  // to()'s backward casts back
    for (size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(got[i], want[i], 2e-6) << "x = " << xs[i];
  }
}

TEST(Unary, GradientsAtKinksAreZero) {
  EXPECT_EQ(grad_at([](const Tensor& x) { return relu(x); }, {-1, 0, 2}), (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return abs(x); }, {-1, 0, 2}), (std::vector<double>{-1, 0, 1}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return leaky_relu(x, 0.2); }, {-1, 0, 2}),
            (std::vector<double>{0.2, 0.2, 1}));
  // clamp passes the gradient on the closed interval, at the bounds too (PyTorch's choice:
  // torch.clamp(x, -0.5, 0.75).sum().backward() gives [0, 1, 1, 1, 0]).
  EXPECT_EQ(grad_at([](const Tensor& x) { return clamp(x, -0.5, 0.75); }, {-1, -0.5, 0, 0.75, 1}),
            (std::vector<double>{0, 1, 1, 1, 0}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return to(clamp(to(x, DType::F32), -0.5, 0.75), DType::F64); },
                    {-1, -0.5, 0, 0.75, 1}),
            (std::vector<double>{0, 1, 1, 1, 0}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return clamp(x, 1, 1); }, {0, 1, 2}), (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return pow(x, 0.0); }, {0, 2}), (std::vector<double>{0, 0}));
}

// PyTorch's softplus(x, beta, threshold): log1p(exp(beta x)) / beta, x past the threshold.
// Values and gradients worked out by hand at points on both sides of the threshold.
TEST(Unary, SoftplusBetaThreshold) {
  const std::vector<double> xs{-3, -0.5, 0, 0.5, 4.9, 5.1, 30};
  const double beta = 2, threshold = 10;  // the cut-off is at x = 5
  Tensor x = from_vector(xs, {7});
  std::vector<double> got = softplus(x, beta, threshold).to_vector<double>();
  std::vector<double> g = grad_at([&](const Tensor& t) { return softplus(t, beta, threshold); }, xs);
  for (size_t i = 0; i < xs.size(); ++i) {
    const double bx = beta * xs[i];
    const double want = bx > threshold ? xs[i] : std::log1p(std::exp(bx)) / beta;
    const double want_grad = bx > threshold ? 1 : 1 / (1 + std::exp(-bx));
    EXPECT_NEAR(got[i], want, 1e-15 * (1 + std::abs(want))) << "x = " << xs[i];
    EXPECT_NEAR(g[i], want_grad, 1e-15) << "x = " << xs[i];
  }
  EXPECT_NEAR(got[2], std::log(2.0) / 2, 1e-16);  // softplus(0) = log(2) / beta
  EXPECT_EQ(got[5], 5.1);                         // linear past the threshold, exactly x
  // PyTorch's defaults (beta 1, threshold 20): x itself above 20, the smooth curve below.
  EXPECT_EQ(softplus(from_vector<double>({25}, {1}), 1.0).item(), 25.0);
  EXPECT_NEAR(softplus(from_vector<double>({19}, {1}), 1.0).item(), 19 + std::log1p(std::exp(-19.0)), 1e-14);
  // f32 agrees with f64.
  std::vector<double> got32 = softplus(to(x, DType::F32), beta, threshold).to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(got32[i], got[i], 1e-6 * (1 + std::abs(got[i])));
  auto f = [](const Inputs& in) { return softplus(in[0], 0.7, 1.5); };
  EXPECT_GRADCHECK(f, {leaf({4, 5}, 2.0)});
  EXPECT_THROW(softplus(x, 0.0), Error);
}

TEST(Unary, PowTensorGradcheckWithBroadcasting) {
  auto f = [](const Inputs& in) { return pow(in[0], in[1]); };
  EXPECT_GRADCHECK(f, {domain_leaf({3, 4}, Domain::Positive), leaf({4})});
  EXPECT_GRADCHECK(f, {domain_leaf({2, 3, 4}, Domain::Positive, true), transposed_leaf({3, 4})});
  EXPECT_GRADCHECK(f, {positive_leaf({3, 1}), leaf({1, 5})});
}

TEST(Unary, PowTensorGradientIsFiniteAtZeroBase) {
  Tensor a = from_vector<double>({0, 2, 0, 3}, {4}).set_requires_grad();
  Tensor b = from_vector<double>({2, 0, 0, 2}, {4}).set_requires_grad();
  Tensor y = pow(a, b);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0, 1, 1, 9}));
  backward(sum(y));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0, 0, 0, 6}));
  std::vector<double> gb = b.grad().to_vector<double>();
  EXPECT_EQ(gb[0], 0);
  EXPECT_DOUBLE_EQ(gb[1], std::log(2.0));
  EXPECT_EQ(gb[2], 0);
  EXPECT_DOUBLE_EQ(gb[3], 9 * std::log(3.0));
}

TEST(Unary, MaximumMinimumGradcheckWithBroadcasting) {
  for (auto op : {maximum, minimum}) {
    auto f = [op](const Inputs& in) { return op(in[0], in[1]); };
    EXPECT_GRADCHECK(f, {leaf({3, 4}), leaf({4})});
    EXPECT_GRADCHECK(f, {transposed_leaf({2, 3, 4}), leaf({3, 1})});
    EXPECT_GRADCHECK(f, {leaf({}), transposed_leaf({3, 5})});
  }
}

TEST(Unary, MaximumMinimumValuesAndTies) {
  Tensor a = from_vector<double>({1, 2, 3}, {3}).set_requires_grad();
  Tensor b = from_vector<double>({1, 0, 5}, {3}).set_requires_grad();
  Tensor hi = maximum(a, b), lo = minimum(a, b);
  EXPECT_EQ(hi.to_vector<double>(), (std::vector<double>{1, 2, 5}));
  EXPECT_EQ(lo.to_vector<double>(), (std::vector<double>{1, 0, 3}));
  backward(sum(hi));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0.5, 1, 0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0.5, 0, 1}));
  a.set_grad(Tensor());
  b.set_grad(Tensor());
  backward(sum(lo));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0.5, 0, 1}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0.5, 1, 0}));
}

Tensor random_mask(const Shape& shape) { return gt(randn(shape), zeros({})); }

TEST(Unary, WhereGradcheckWithBroadcasting) {
  Tensor cond = random_mask({3, 1});
  auto f = [&cond](const Inputs& in) { return where(cond, in[0], in[1]); };
  EXPECT_GRADCHECK(f, {transposed_leaf({3, 4}), leaf({4})});
  cond = random_mask({2, 3, 4});
  EXPECT_GRADCHECK(f, {leaf({3, 4}), leaf({})});
  EXPECT_GRADCHECK(f, {leaf({3, 4}), detach(leaf({3, 4}))});  // b needs no gradient
}

TEST(Unary, WhereAndMaskedFillValues) {
  Tensor x = from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor mask = gt(from_vector<float>({0, 1}, {2}), zeros({}));
  EXPECT_EQ(where(mask, x, full({}, -1.0)).to_vector<float>(), (std::vector<float>{-1, 2, -1, 4}));
  EXPECT_EQ(masked_fill(x, mask, 9.0).to_vector<float>(), (std::vector<float>{1, 9, 3, 9}));
}

TEST(Unary, MaskedFillGradcheck) {
  Tensor mask = random_mask({4});
  auto f = [&mask](const Inputs& in) { return masked_fill(in[0], mask, 2.5); };
  EXPECT_GRADCHECK(f, {transposed_leaf({3, 4})});
  mask = random_mask({2, 1, 4});
  EXPECT_GRADCHECK(f, {leaf({2, 3, 4})});
}

using ::ember::testing::expect_error;

TEST(Unary, ErrorsNameTheOpAndShapes) {
  Tensor a = ones({2, 3}), b = ones({4, 5});
  Tensor mask = gt(a, zeros({}));
  expect_error([] { exp(zeros({3}, {.dtype = DType::I64})); }, "exp: expected a floating tensor, got i64 of shape [3]");
  expect_error([&] { where(a, a, a); }, "where: the condition must be bool, got f32 of shape [2,3]");
  expect_error([&] { where(mask, a, b); }, "where: shapes [2,3] and [4,5] cannot be broadcast");
  expect_error([&] { where(mask, a, ones({3}, {.dtype = DType::I64})); }, "where: dtype mismatch");  // f64 would promote
  expect_error([&] { masked_fill(ones({3}), mask, 0.0); },
               "masked_fill: a mask of shape [2,3] does not broadcast to the input's shape [3]");
  expect_error([&] { pow(a, b); }, "pow: shapes [2,3] and [4,5] cannot be broadcast");
  expect_error([&] { maximum(a, b); }, "maximum: shapes [2,3] and [4,5] cannot be broadcast");
  expect_error([&] { clamp(a, 1.0, -1.0); }, "clamp: lo 1 is above hi -1 for a tensor of shape [2,3]");
}

}  // namespace
}  // namespace ember
