// Misuse table: for every public op family, bad shapes, dtypes, dims, sizes (negative, zero,
// overflowing) and indices. Each must throw ember::Error whose message names the op: never an
// abort, a segfault, a sanitizer report or a silently wrong result. Built as any test, it also
// runs under ASan + UBSan (make sanitize).
#include <cmath>
#include <functional>
#include <limits>

#include "autograd/ops.h"
#include "tests/testing.h"

// Huge allocations must come back as errors under ASan too (its default is to abort).
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace ember {
namespace {

constexpr int64_t kBig = int64_t{1} << 62;
constexpr int64_t k32 = int64_t{1} << 32;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Misuse {
  const char* what;
  std::function<void()> call;
  const char* names;  // a part the message must contain (the op's name, at least)
};

void run_table(const std::vector<Misuse>& table) {
  for (const Misuse& m : table) {
    SCOPED_TRACE(m.what);
    try {
      m.call();
      ADD_FAILURE() << m.what << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(m.names), std::string::npos) << m.what << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << m.what << ": threw a non-ember exception: " << e.what();
    }
  }
}

Tensor f32(const Shape& s) { return randn(s); }
Tensor i64(const Shape& s) { return zeros(s, {.dtype = DType::I64}); }

TEST(Misuse, Creation) {
  run_table({
      {"ones 2^62 (bytes overflow)", [] { ones({kBig}); }, "full: shape [4611686018427387904] needs more than 2^63 bytes"},
      {"zeros 2^32 x 2^32", [] { zeros({k32, k32}); }, "overflows int64"},
      {"empty 2^32 x 2^32", [] { empty({k32, k32}); }, "empty"},
      {"zeros [0, 2^62, 2^62] (strides overflow)", [] { zeros({0, kBig, kBig}); }, "overflows int64"},
      {"negative dim", [] { zeros({2, -3}); }, "negative dimension -3"},
      {"randn negative", [] { randn({-1}); }, "negative dimension"},
      {"randn overflowing", [] { randn({k32, k32, 4}); }, "overflows"},
      {"arange to inf", [] { arange(0, kInf); }, "arange"},
      {"arange to nan", [] { arange(0, std::nan("")); }, "arange"},
      {"arange from nan", [] { arange(std::nan(""), 1); }, "arange"},
      {"arange step inf", [] { arange(0, 1, kInf); }, "arange"},
      {"arange 1e300", [] { arange(0, 1e300); }, "too many"},
      {"arange step 0", [] { arange(0, 1, 0); }, "arange: step must be non-zero"},
      {"linspace negative", [] { linspace(0, 1, -1); }, "linspace"},
      {"eye negative", [] { eye(-2); }, "eye"},
      {"eye overflowing", [] { eye(k32); }, "eye"},
      {"randint empty range", [] { randint(3, 3, {2}); }, "randint"},
      {"from_vector too few", [] { from_vector<float>({1, 2}, {3}); }, "from_vector"},
      {"from_vector overflowing", [] { from_vector<float>({1}, {k32, k32}); }, "overflows"},
  });
  // Extreme but valid: randint over the whole int64 range must not overflow (UBSan).
  EXPECT_EQ(randint(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), {4}, {.dtype = DType::I64}).numel(), 4);
  // arange with an exact count stays exact; a zero-sized shape with moderate sizes is fine.
  EXPECT_EQ(arange(0, 5).numel(), 5);
  EXPECT_EQ(zeros({0, k32}).numel(), 0);
}

TEST(Misuse, ShapesAndViews) {
  const Tensor x = f32({2, 3});
  run_table({
      {"reshape to 2^32 x 2^32", [] { reshape(zeros({0}), {k32, k32}); }, "reshape"},
      {"reshape two -1", [&] { reshape(x, {-1, -1}); }, "reshape: only one dimension can be -1"},
      {"reshape -2", [&] { reshape(x, {-2, -3}); }, "reshape: invalid dimension -2"},
      {"reshape wrong count", [&] { reshape(x, {4}); }, "reshape: cannot reshape"},
      {"reshape -1 of an empty tensor", [] { reshape(zeros({0}), {0, -1}); }, "reshape"},
      {"view overflowing", [&] { view(x, {kBig, kBig, 0}); }, "view"},
      {"expand to -5", [] { expand(randn({1}), {-5}); }, "expand"},
      {"expand leading -2", [] { expand(randn({3}), {-2, 3}); }, "expand"},
      {"expand leading -1", [] { expand(randn({3}), {-1, 3}); }, "expand"},
      {"expand incompatible", [&] { expand(x, {4, 3}); }, "expand"},
      {"expand overflowing", [] { expand(randn({1}), {k32, k32}); }, "expand"},
      {"expand fewer dims", [&] { expand(x, {3}); }, "expand"},
      {"permute bad order", [&] { permute(x, {0, 0}); }, "permute"},
      {"permute short", [&] { permute(x, {0}); }, "permute"},
      {"transpose dim 5", [&] { transpose(x, 0, 5); }, "transpose: dim 5"},
      {"select index out of range", [&] { select(x, 0, 2); }, "select"},
      {"select negative out of range", [&] { select(x, 1, -4); }, "select"},
      {"select dim out of range", [&] { select(x, 3, 0); }, "select"},
      {"select int64 min", [&] { select(x, 0, std::numeric_limits<int64_t>::min()); }, "select"},
      {"slice step 0", [&] { slice(x, 0, 0, 2, 0); }, "slice"},
      {"slice step negative", [&] { slice(x, 0, 0, 2, -1); }, "slice"},
      {"narrow too long", [&] { narrow(x, 1, 1, 5); }, "narrow"},
      {"narrow negative length", [&] { narrow(x, 1, 1, -1); }, "narrow"},
      {"narrow overflowing start", [&] { narrow(x, 1, std::numeric_limits<int64_t>::max(), 2); }, "narrow"},
      {"narrow negative start", [&] { narrow(x, 1, std::numeric_limits<int64_t>::min(), 2); }, "narrow"},
      {"squeeze non-1 dim", [&] { squeeze(x, 7); }, "squeeze"},
      {"unsqueeze dim 9", [&] { unsqueeze(x, 9); }, "unsqueeze"},
      {"flatten start after end", [&] { flatten(x, 1, 0); }, "flatten"},
      {"cat empty list", [] { cat({}, 0); }, "cat"},
      {"cat mismatched", [&] { cat({x, f32({2, 4})}, 0); }, "cat"},
      {"cat bad dim", [&] { cat({x, x}, 4); }, "cat"},
      {"stack mismatched", [&] { stack({x, f32({3, 2})}, 0); }, "stack"},
      {"stack empty", [] { stack({}, 0); }, "stack"},
  });
  // A slice with a huge end is clamped, as in PyTorch; a slice is never silently out of bounds.
  EXPECT_EQ(slice(x, 1, 1, std::numeric_limits<int64_t>::max()).shape(), (Shape{2, 2}));
  EXPECT_EQ(slice(x, 1, 1, 3, std::numeric_limits<int64_t>::max()).shape(), (Shape{2, 1}));
  EXPECT_EQ(slice(x, 1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()).shape(), (Shape{2, 3}));
}

TEST(Misuse, ElementwiseAndIntegerDivision) {
  const Tensor x = f32({2, 3});
  const Tensor a = from_vector<int64_t>({7, -7, std::numeric_limits<int64_t>::min()}, {3}, {.dtype = DType::I64});
  run_table({
      {"add shapes", [&] { add(x, f32({4})); }, "add"},
      {"mul shapes", [&] { mul(x, f32({2, 2})); }, "mul"},
      {"div by integer zero", [&] { div(a, from_vector<int64_t>({1, 0, 1}, {3}, {.dtype = DType::I64})); }, "div: integer division by zero"},
      {"div by broadcast integer zero", [&] { div(a, i64({1})); }, "div: integer division by zero"},
      {"where shapes", [&] { where(gt(x, x), x, f32({5})); }, "where"},
      {"where non-bool condition", [&] { where(x, x, x); }, "where"},
      {"masked_fill shapes", [&] { masked_fill(x, gt(f32({4}), f32({4})), 0); }, "masked_fill"},
      {"exp of i64", [&] { exp(a); }, "exp"},
      {"clamp lo > hi", [&] { clamp(x, 1, 0); }, "clamp"},
  });
  // INT64_MIN / -1 wraps to INT64_MIN (as PyTorch); truncation toward zero otherwise.
  const Tensor q = div(a, from_vector<int64_t>({2, 2, -1}, {3}, {.dtype = DType::I64}));
  EXPECT_EQ(q.to_vector<int64_t>(), (std::vector<int64_t>{3, -3, std::numeric_limits<int64_t>::min()}));
  // Integer powers wrap instead of overflowing a float-to-integer cast.
  const Tensor p = pow(from_vector<int64_t>({10, 2, -1, 3}, {4}, {.dtype = DType::I64}),
                       from_vector<int64_t>({30, 10, -3, -1}, {4}, {.dtype = DType::I64}));
  EXPECT_EQ(p.to_vector<int64_t>()[1], 1024);
  EXPECT_EQ(p.to_vector<int64_t>()[2], -1);
  EXPECT_EQ(p.to_vector<int64_t>()[3], 0);
  // Float to integer conversions saturate (NaN -> 0) instead of being undefined.
  const Tensor f = from_vector<double>({std::nan(""), kInf, -kInf, 1e30, -2.5}, {5}, {.dtype = DType::F64});
  EXPECT_EQ(to(f, DType::I64).to_vector<int64_t>(),
            (std::vector<int64_t>{0, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max(), -2}));
  EXPECT_EQ(full({1}, 1e300, {.dtype = DType::I64}).to_vector<int64_t>()[0], std::numeric_limits<int64_t>::max());
}

TEST(Misuse, ReductionsIndexingAndLinearAlgebra) {
  const Tensor x = f32({2, 3});
  run_table({
      {"sum dim 5", [&] { sum(x, {5}); }, "sum"},
      {"sum repeated dim", [&] { sum(x, {0, 0}); }, "sum"},
      {"mean dim -3", [&] { mean(x, {-3}); }, "mean"},
      {"argmax dim 2", [&] { argmax(x, 2); }, "argmax"},
      {"softmax dim 2", [&] { softmax(x, 2); }, "softmax"},
      {"logsumexp dim 9", [&] { logsumexp(x, {9}); }, "logsumexp"},
      {"index_select out of range", [&] { index_select(x, 0, from_vector<int64_t>({2}, {1}, {.dtype = DType::I64})); }, "index_select"},
      {"index_select negative", [&] { index_select(x, 0, from_vector<int64_t>({-1}, {1}, {.dtype = DType::I64})); }, "index_select"},
      {"index_select float index", [&] { index_select(x, 0, zeros({1})); }, "index_select"},
      {"gather out of range", [&] { gather(x, 1, from_vector<int64_t>({0, 3}, {2, 1}, {.dtype = DType::I64})); }, "gather"},
      {"embedding out of range", [&] { embedding(x, from_vector<int64_t>({5}, {1}, {.dtype = DType::I64})); }, "embedding"},
      {"embedding int64 max", [&] { embedding(x, from_vector<int64_t>({std::numeric_limits<int64_t>::max()}, {1}, {.dtype = DType::I64})); }, "embedding"},
      {"one_hot out of range", [] { one_hot(from_vector<int64_t>({3}, {1}, {.dtype = DType::I64}), 3); }, "one_hot"},
      {"one_hot zero classes", [] { one_hot(from_vector<int64_t>({0}, {1}, {.dtype = DType::I64}), 0); }, "one_hot"},
      {"matmul inner", [&] { matmul(x, f32({4, 5})); }, "matmul"},
      {"matmul 0-d", [] { matmul(scalar(1), scalar(1)); }, "matmul"},
      {"matmul i64", [] { matmul(i64({2, 2}), i64({2, 2})); }, "matmul"},
      {"linear weight shape", [&] { linear(x, f32({4, 4}), f32({4})); }, "linear"},
      {"cross_entropy target out of range", [&] { cross_entropy(x, from_vector<int64_t>({0, 3}, {2}, {.dtype = DType::I64})); }, "cross_entropy"},
      {"cross_entropy negative target", [&] { cross_entropy(x, from_vector<int64_t>({-5, 0}, {2}, {.dtype = DType::I64})); }, "cross_entropy"},
      {"cross_entropy float target shape", [&] { cross_entropy(x, f32({3})); }, "cross_entropy"},
      {"mse shapes", [&] { mse_loss(x, f32({3, 2})); }, "mse_loss"},
  });
}

TEST(Misuse, NetworkOps) {
  const Tensor img = f32({1, 4, 5, 5});
  run_table({
      {"conv2d channels", [&] { conv2d(img, f32({2, 3, 3, 3})); }, "conv2d"},
      {"conv2d zero stride", [&] { conv2d(img, f32({2, 4, 3, 3}), {}, {0, 1}); }, "conv2d"},
      {"conv2d kernel larger than input", [&] { conv2d(img, f32({2, 4, 7, 7})); }, "conv2d"},
      {"conv2d 3-d input", [] { conv2d(f32({4, 5, 5}), f32({2, 4, 3, 3})); }, "conv2d"},
      {"conv1d zero stride", [] { conv1d(f32({1, 2, 8}), f32({2, 2, 3}), {}, 0); }, "conv1d"},
      {"max_pool2d zero kernel", [&] { max_pool2d(img, {0, 0}); }, "max_pool2d"},
      {"max_pool2d kernel larger than input", [&] { max_pool2d(img, {7, 7}); }, "max_pool2d"},
      {"avg_pool2d negative padding", [&] { avg_pool2d(img, {2, 2}, std::nullopt, {-1, -1}); }, "avg_pool2d"},
      {"adaptive_avg_pool2d zero", [&] { adaptive_avg_pool2d(img, {0, 0}); }, "adaptive_avg_pool2d"},
      {"group_norm 0 groups", [&] { group_norm(img, 0); }, "group_norm: groups must be positive, got 0"},
      {"group_norm -2 groups", [&] { group_norm(img, -2); }, "groups must be positive"},
      {"group_norm indivisible", [&] { group_norm(img, 3); }, "group_norm"},
      {"layer_norm shape", [&] { layer_norm(img, {4}); }, "layer_norm"},
      {"dropout p > 1", [&] { dropout(img, 1.5, true); }, "dropout"},
      {"dropout p nan", [&] { dropout(img, std::nan(""), true); }, "dropout"},
      {"attention shapes", [] { scaled_dot_product_attention(f32({1, 2, 3, 4}), f32({1, 2, 3, 5}), f32({1, 2, 3, 4})); }, "attention"},
  });
}

TEST(Misuse, Backward) {
  const Tensor w = randn({3}).set_requires_grad();
  const Tensor y = w * 2.0;
  run_table({
      {"f64 gradient for an f32 output", [&] { backward(y, ones({3}, {.dtype = DType::F64}), true); }, "backward: upstream gradient is f64"},
      {"i64 gradient", [&] { backward(y, ones({3}, {.dtype = DType::I64}), true); }, "backward"},
      {"wrong shape", [&] { backward(y, ones({4}), true); }, "backward: upstream gradient of shape [4]"},
      {"non-scalar without gradient", [&] { backward(y, Tensor(), true); }, "backward"},
      {"no grad", [] { backward(randn({1})); }, "backward"},
  });
}

}  // namespace
}  // namespace ember
