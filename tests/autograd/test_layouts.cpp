// Layout fuzzing: every op family on operands of every layout the tensor model allows —
// transposed, permuted, sliced with a step, expanded (stride 0), batch-strided (a batch stride
// below rows x row stride, the layout oneDNN refuses), offset into a larger buffer — in every
// dtype, against the same op on contiguous copies of the same values. Gradients are compared
// too (f32 and f64). The rule: whatever runs on contiguous operands runs on any layout, with the
// same result; an op that refuses a dtype for contiguous operands is skipped for that dtype.
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include "tests/testing.h"

namespace ember {
namespace {

enum class Kind { Normal, Positive, Index };

struct Input {
  Shape shape;
  Kind kind = Kind::Normal;
  int64_t classes = 0;  // Index: values in [0, classes)
};

struct OpCase {
  std::string name;
  std::vector<Input> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> f;
};

enum class Layout { Contiguous, Transposed, Reversed, Stepped, Expanded, BatchStrided, Offset, Count };

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::Contiguous: return "contiguous";
    case Layout::Transposed: return "transposed";
    case Layout::Reversed: return "reversed dims";
    case Layout::Stepped: return "sliced with step 2";
    case Layout::Expanded: return "expanded";
    case Layout::BatchStrided: return "batch-strided";
    case Layout::Offset: return "offset";
    default: return "?";
  }
}

Tensor values(const Shape& shape, const Input& in, DType dtype) {
  switch (in.kind) {
    case Kind::Index: return randint(0, in.classes, shape);
    case Kind::Positive: return to(rand(shape, {.dtype = DType::F64}) + 0.5, dtype);
    case Kind::Normal: break;
  }
  return to(randn(shape, {.dtype = DType::F64}), dtype);
}

// A tensor of in.shape whose values are random and whose layout is `layout` (where the shape
// allows it; otherwise contiguous).
Tensor make(const Input& in, DType dtype, Layout layout) {
  const Shape& s = in.shape;
  const int64_t r = static_cast<int64_t>(s.size());
  if (in.kind == Kind::Index) dtype = DType::I64;
  switch (layout) {
    case Layout::Transposed:
      if (r >= 2) {
        Shape b = s;
        std::swap(b[r - 1], b[r - 2]);
        return transpose(values(b, in, dtype), -1, -2);
      }
      break;
    case Layout::Reversed:
      if (r >= 2) {
        Shape b(s.rbegin(), s.rend());
        std::vector<int64_t> order;
        for (int64_t d = r - 1; d >= 0; --d) order.push_back(d);
        return permute(values(b, in, dtype), order);
      }
      break;
    case Layout::Stepped:
      if (r >= 1) {
        Shape b = s;
        for (auto& n : b) n = 2 * n;
        Tensor t = values(b, in, dtype);
        for (int64_t d = 0; d < r; ++d) t = slice(t, d, 1, 2 * s[d], 2);
        return t;
      }
      break;
    case Layout::Expanded:
      if (r >= 1) {
        Shape b = s;
        b[0] = 1;
        return expand(values(b, in, dtype), s);
      }
      break;
    case Layout::BatchStrided:
      if (r >= 3) {
        Shape b = s;
        b[r - 2] = 3 * s[r - 2] - 2;
        return slice(values(b, in, dtype), r - 2, 0, b[r - 2], 3);
      }
      break;
    case Layout::Offset:
      if (r >= 1) {
        Shape b = s;
        b[r - 1] += 3;
        return narrow(values(b, in, dtype), r - 1, 2, s[r - 1]);
      }
      break;
    default: break;
  }
  return values(s, in, dtype);
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// max |x - y| / max(1, max |y|), NaNs compared as equal.
double error(const Tensor& x, const Tensor& y) {
  std::vector<double> xv = to(x, DType::F64).to_vector<double>(), yv = to(y, DType::F64).to_vector<double>();
  if (xv.size() != yv.size()) return 1e300;
  double err = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    if (std::isnan(xv[i]) && std::isnan(yv[i])) continue;
    if (std::isnan(xv[i]) != std::isnan(yv[i])) return 1e300;
    err = std::max(err, std::abs(xv[i] - yv[i]));
  }
  return err / std::max(1.0, max_abs(yv));
}

double tolerance(DType dtype) { return dtype == DType::F64 ? 1e-10 : dtype == DType::F32 ? 2e-5 : 2e-2; }

bool floating(const Tensor& t) { return t.dtype() == DType::F32 || t.dtype() == DType::F64 || t.dtype() == DType::BF16; }

struct Run {
  Tensor out;
  std::vector<Tensor> grads;
};

// The op on `xs` (as leaves where floating and differentiated), and the gradients of
// sum(out * weights) where asked.
Run run(const OpCase& op, const std::vector<Tensor>& xs, const Tensor& weights, bool with_grad) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : xs) {
    Tensor l = detach(x);
    if (with_grad && floating(l)) l.set_requires_grad();
    leaves.push_back(l);
  }
  Run r;
  r.out = op.f(leaves);
  if (with_grad && floating(r.out)) {
    backward(sum(r.out * weights));
    for (const Tensor& l : leaves) r.grads.push_back(l.requires_grad() ? l.grad() : Tensor());
  }
  return r;
}

std::vector<OpCase> cases() {
  using V = const std::vector<Tensor>&;
  const Shape s{3, 5, 4};
  std::vector<OpCase> c;
  // elementwise: unary, binary (with broadcasting), where, comparisons
  c.push_back({"exp tanh sigmoid", {{s}}, [](V x) { return exp(x[0]) + tanh(x[0]) * sigmoid(x[0]); }});
  c.push_back({"relu gelu silu softplus", {{s}}, [](V x) { return relu(x[0]) + gelu(x[0]) + silu(x[0]) + softplus(x[0]); }});
  c.push_back({"clamp abs sin", {{s}}, [](V x) { return clamp(x[0], -0.5, 0.7) + abs(x[0]) * sin(x[0]); }});
  c.push_back({"log sqrt pow", {{s, Kind::Positive}}, [](V x) { return log(x[0]) + sqrt(x[0]) + pow(x[0], 1.5); }});
  c.push_back({"add mul", {{s}, {s}}, [](V x) { return x[0] * x[1] + x[0]; }});
  c.push_back({"div broadcast", {{s}, {{5, 4}, Kind::Positive}}, [](V x) { return x[0] / x[1] - x[1]; }});
  c.push_back({"maximum minimum", {{s}, {s}}, [](V x) { return maximum(x[0], x[1]) + minimum(x[0], x[1]) * 2.0; }});
  c.push_back({"where gt", {{s}, {s}}, [](V x) { return where(gt(x[0], x[1]), x[0], x[1] * 3.0); }});
  // reductions
  c.push_back({"sum mean", {{s}}, [](V x) { return sum(x[0], {1}) + mean(x[0], {1}) * 2.0; }});
  c.push_back({"sum all", {{s}}, [](V x) { return sum(x[0]) + mean(x[0], {0, 2}, true); }});
  c.push_back({"max min", {{s}}, [](V x) { return max(x[0], {2}) - min(x[0], {2}) + max(x[0]); }});
  c.push_back({"var stddev", {{s}}, [](V x) { return var(x[0], {1}) + stddev(x[0], {1}, false) + var(x[0], {1}, Correction{2}) + sum(stddev(x[0], {0, 2}, true)); }});
  c.push_back({"logsumexp", {{s}}, [](V x) { return logsumexp(x[0], {-1}); }});
  c.push_back({"argmax", {{s}}, [](V x) { return argmax(x[0], 1); }});
  // linear algebra
  c.push_back({"matmul batched", {{s}, {{3, 4, 6}}}, [](V x) { return matmul(x[0], x[1]); }});
  c.push_back({"matmul broadcast", {{s}, {{4, 6}}}, [](V x) { return matmul(x[0], x[1]); }});
  c.push_back({"matmul vector", {{s}, {{4}}}, [](V x) { return matmul(x[0], x[1]); }});
  c.push_back({"linear", {{s}, {{6, 4}}, {{6}}}, [](V x) { return linear(x[0], x[1], x[2]); }});
  // functional
  c.push_back({"softmax", {{s}}, [](V x) { return softmax(x[0], -1) + softmax(x[0], 1); }});
  c.push_back({"log_softmax", {{s}}, [](V x) { return log_softmax(x[0], -1); }});
  c.push_back({"layer_norm", {{s}, {{4}}, {{4}}}, [](V x) { return layer_norm(x[0], {4}, x[1], x[2]); }});
  c.push_back({"batch_norm", {{{4, 3, 5, 2}}, {{3}}, {{3}}},
               [](V x) { return batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true); }});
  c.push_back({"group_norm", {{{2, 4, 3, 5}}, {{4}}, {{4}}}, [](V x) { return group_norm(x[0], 2, x[1], x[2]); }});
  // losses
  c.push_back({"cross_entropy", {{{6, 5}}, {{6}, Kind::Index, 5}}, [](V x) { return cross_entropy(x[0], x[1]); }});
  c.push_back({"cross_entropy nd", {{{2, 5, 3}}, {{2, 3}, Kind::Index, 5}},
               [](V x) { return cross_entropy(x[0], x[1], Reduction::None); }});
  c.push_back({"nll_loss", {{{6, 5}}, {{6}, Kind::Index, 5}}, [](V x) { return nll_loss(x[0], x[1]); }});
  c.push_back({"mse bce", {{s}, {s, Kind::Positive}},
               [](V x) { return mse_loss(x[0], x[1]) + binary_cross_entropy_with_logits(x[0], x[1] * 0.5); }});
  // convolution and pooling
  c.push_back({"conv2d", {{{2, 3, 6, 7}}, {{4, 3, 3, 3}}, {{4}}},
               [](V x) { return conv2d(x[0], x[1], x[2], {1, 2}, {1, 0}); }});
  c.push_back({"conv1d", {{{2, 3, 9}}, {{4, 3, 3}}}, [](V x) { return conv1d(x[0], x[1], Tensor(), 1, 1); }});
  c.push_back({"max_pool2d", {{{2, 3, 6, 7}}}, [](V x) { return max_pool2d(x[0], {2, 2}, Size2{2, 2}, {1, 1}); }});
  c.push_back({"avg_pool2d", {{{2, 3, 6, 7}}}, [](V x) { return avg_pool2d(x[0], {3, 2}, Size2{1, 2}); }});
  c.push_back({"adaptive_avg_pool2d", {{{2, 3, 6, 7}}}, [](V x) { return adaptive_avg_pool2d(x[0], {4, 3}); }});
  c.push_back({"pool options", {{{2, 3, 6, 7}}}, [](V x) {
                 return max_pool2d(x[0], {2, 2}, {.padding = {1, 1}, .dilation = {2, 1}, .ceil_mode = true}) +
                        avg_pool2d(x[0], {3, 3}, {.stride = Size2{2, 2}, .padding = {1, 1}, .ceil_mode = true,
                                                  .count_include_pad = false});
               }});
  c.push_back({"weighted losses", {{{6, 5}}, {{6}, Kind::Index, 5}, {{5}, Kind::Positive}, {{6, 5}}},
               [](V x) {
                 return cross_entropy(x[0], x[1], Reduction::Mean, -100, 0.1, x[2]) +
                        binary_cross_entropy_with_logits(x[0], sigmoid(x[3]), Reduction::Sum, x[2]);
               }});
  // attention and the FFT long convolution
  c.push_back({"attention", {{{2, 2, 5, 4}}, {{2, 2, 5, 4}}, {{2, 2, 5, 4}}},
               [](V x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }});
  c.push_back({"attention causal", {{{2, 2, 5, 4}}, {{2, 2, 5, 4}}, {{2, 2, 5, 4}}},
               [](V x) { return scaled_dot_product_attention(x[0], x[1], x[2], true); }});
  c.push_back({"fft_conv", {{{2, 3, 9}}, {{3, 5}}, {{3}}}, [](V x) { return fft_conv(x[0], x[1], x[2]); }});
  // shape and index ops
  c.push_back({"cat reshape", {{s}, {s}}, [](V x) { return reshape(cat({x[0], x[1]}, 1), {3, 40}); }});
  c.push_back({"index_select", {{s}, {{4}, Kind::Index, 5}}, [](V x) { return index_select(x[0], 1, x[1]); }});
  c.push_back({"gather", {{s}, {{3, 2, 4}, Kind::Index, 5}}, [](V x) { return gather(x[0], 1, x[1]); }});
  c.push_back({"embedding", {{{7, 4}}, {{3, 5}, Kind::Index, 7}}, [](V x) { return embedding(x[0], x[1]); }});
  c.push_back({"masked_fill", {{s}, {s}}, [](V x) { return masked_fill(x[0], gt(x[1], x[0]), 0.25); }});
  return c;
}

// Counts the op in `ran` unless it refuses this dtype even for contiguous operands.
void check_op(const OpCase& op, DType dtype, int& ran) {
  const bool with_grad = dtype != DType::BF16;
  for (int l = 0; l < static_cast<int>(Layout::Count) + 2; ++l) {
    // Every input in one layout, then twice a random layout per input.
    std::vector<Tensor> xs;
    std::string names;
    for (const Input& in : op.inputs) {
      const Layout layout = l < static_cast<int>(Layout::Count)
                                ? static_cast<Layout>(l)
                                : static_cast<Layout>(randint(0, static_cast<int64_t>(Layout::Count), {}).item());
      xs.push_back(make(in, dtype, layout));
      names += std::string(layout_name(layout)) + " ";
    }
    SCOPED_TRACE(::testing::Message() << op.name << " " << dtype << ": " << names);
    std::vector<Tensor> dense;
    for (const Tensor& x : xs) dense.push_back(clone(x));
    for (size_t i = 0; i < xs.size(); ++i) ASSERT_TRUE(dense[i].is_contiguous());
    Run want;
    try {
      want = run(op, dense, Tensor(), false);
    } catch (const Error& e) {
      if (std::getenv("EMBER_LAYOUTS_VERBOSE")) std::cerr << op.name << " skipped in " << dtype << ": " << e.what() << "\n";
      return;  // the op does not take this dtype at all
    }
    if (l == 0) ++ran;
    Tensor weights = floating(want.out) ? to(randn(want.out.shape()), want.out.dtype()) : Tensor();
    want = run(op, dense, weights, with_grad);
    Run got;
    try {
      got = run(op, xs, weights, with_grad);
    } catch (const Error& e) {
      ADD_FAILURE() << "throws on this layout: " << e.what();
      continue;
    }
    ASSERT_EQ(got.out.shape(), want.out.shape());
    ASSERT_EQ(got.out.dtype(), want.out.dtype());
    EXPECT_LE(error(got.out, want.out), tolerance(dtype)) << "forward";
    for (size_t i = 0; i < want.grads.size(); ++i) {
      if (!want.grads[i].defined()) continue;
      ASSERT_TRUE(got.grads[i].defined()) << "input " << i;
      EXPECT_LE(error(got.grads[i], want.grads[i]), tolerance(dtype)) << "gradient of input " << i;
    }
  }
}

class Layouts : public ::testing::TestWithParam<DType> {};

TEST_P(Layouts, EveryOpOnEveryLayoutMatchesContiguous) {
  int ran = 0, total = 0;
  for (const OpCase& op : cases()) {
    ++total;
    check_op(op, GetParam(), ran);
  }
  // f32 and f64 run every op; bf16 may skip the few that refuse it.
  if (GetParam() != DType::BF16) EXPECT_EQ(ran, total);
  else EXPECT_GE(ran, total / 2);
  std::cout << ran << " of " << total << " op families ran in " << GetParam() << "\n";
}

INSTANTIATE_TEST_SUITE_P(Dtypes, Layouts, ::testing::Values(DType::F32, DType::F64, DType::BF16),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return info.param == DType::F32 ? "F32" : info.param == DType::F64 ? "F64" : "BF16";
                         });

// The layouts themselves are what their names say (a guard against the fuzzer silently
// testing only dense memory).
TEST(Layouts, GeneratorsMakeTheIntendedLayouts) {
  const Input in{{3, 5, 4}};
  EXPECT_TRUE(make(in, DType::F32, Layout::Contiguous).is_contiguous());
  for (int l = 1; l < static_cast<int>(Layout::Count); ++l)
    EXPECT_FALSE(make(in, DType::F32, static_cast<Layout>(l)).is_contiguous()) << layout_name(static_cast<Layout>(l));
  Tensor b = make(in, DType::F32, Layout::BatchStrided);
  EXPECT_LT(b.stride(0), b.size(1) * b.stride(1));
  EXPECT_EQ(make(in, DType::F32, Layout::Expanded).stride(0), 0);
}

}  // namespace
}  // namespace ember
