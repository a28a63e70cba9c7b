#include <cmath>
#include <limits>

#include "backends/backend.h"
#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

// A [B, H, T, D] leaf laid out as the transpose of a [B, T, H, D] buffer (how attention heads
// come out of a projection).
Tensor heads_leaf(int64_t b, int64_t h, int64_t t, int64_t d) {
  return detach(transpose(randn({b, t, h, d}, {.dtype = DType::F64}), 1, 2)).set_requires_grad();
}

Tensor bool_tensor(const std::vector<double>& zero_or_one, const Shape& shape) {
  return gt(from_vector<double>(zero_or_one, shape), scalar(0.5, {.dtype = DType::F64}));
}

// A fixed bool pattern of `shape` (trailing dims [Tq, Tk]) with key 0 always kept, so every
// query row attends to something.
Tensor pattern_mask(const Shape& shape) {
  const int64_t cols = shape.back();
  std::vector<double> keep(static_cast<size_t>(numel_of(shape)));
  for (size_t e = 0; e < keep.size(); ++e) {
    const auto j = static_cast<int64_t>(e) % cols, i = static_cast<int64_t>(e) / cols;
    keep[e] = j == 0 || (3 * i + 7 * j) % 5 != 0 ? 1 : 0;
  }
  return bool_tensor(keep, shape);
}

// Bool [Tq, Tk]: key j <= query i (PyTorch's is_causal, top-left aligned).
Tensor causal_mask(int64_t tq, int64_t tk) {
  return le(reshape(arange(0, static_cast<double>(tk)), {1, tk}), reshape(arange(0, static_cast<double>(tq)), {tq, 1}));
}

// The naive composition: softmax(q k^T * scale, hidden scores at -inf) (times the dropout
// factors `keep` when given) @ v.
Tensor reference(const Tensor& q, const Tensor& k, const Tensor& v, bool causal, const Tensor& mask = {},
                 const Tensor& keep = {}) {
  const int64_t tq = q.size(-2), tk = k.size(-2);
  Tensor scores = matmul(q, transpose(k, -1, -2)) * (1 / std::sqrt(static_cast<double>(q.size(-1))));
  const Tensor hidden = full({1}, -std::numeric_limits<double>::infinity(), {.dtype = q.dtype()});
  if (causal) scores = where(causal_mask(tq, tk), scores, hidden);
  if (mask.defined()) scores = where(mask, scores, hidden);
  Tensor p = softmax(scores, -1);
  if (keep.defined()) p = p * keep;
  return matmul(p, v);
}

void expect_close(const Tensor& got, const Tensor& want, double tol) {
  ASSERT_EQ(got.shape(), want.shape());
  std::vector<double> g = to(got, DType::F64).to_vector<double>(), w = to(want, DType::F64).to_vector<double>();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (!(std::abs(g[i] - w[i]) <= worst)) worst = std::abs(g[i] - w[i]), at = i;
  EXPECT_LE(worst, tol) << "element " << at << ": " << g[at] << " vs " << w[at];
}

using ::ember::testing::expect_error;

auto attention(bool causal, const Tensor& mask = {}, double scale = 0) {
  return [causal, mask, scale](const Inputs& in) {
    return scaled_dot_product_attention(in[0], in[1], in[2], causal, mask, 0.0, true, scale);
  };
}

TEST(Attention, Gradients) {
  for (bool causal : {false, true}) {
    EXPECT_GRADCHECK(attention(causal), {leaf({2, 3, 5, 4}), leaf({2, 3, 5, 4}), leaf({2, 3, 5, 4})});
    // Tq != Tk both ways, and a value dim other than the head dim.
    EXPECT_GRADCHECK(attention(causal), {leaf({2, 4, 3}), leaf({2, 6, 3}), leaf({2, 6, 5})});
    EXPECT_GRADCHECK(attention(causal), {leaf({1, 2, 7, 3}), leaf({1, 2, 4, 3}), leaf({1, 2, 4, 2})});
    // No batch dims, and three of them.
    EXPECT_GRADCHECK(attention(causal), {leaf({4, 3}), leaf({5, 3}), leaf({5, 3})});
    EXPECT_GRADCHECK(attention(causal), {leaf({2, 1, 2, 3, 2}), leaf({2, 1, 2, 4, 2}), leaf({2, 1, 2, 4, 2})});
  }
  EXPECT_GRADCHECK(attention(false, {}, 0.7), {leaf({2, 5, 4}), leaf({2, 5, 4}), leaf({2, 5, 4})});
}

TEST(Attention, GradientsAcrossTiles) {
  // More queries and keys than one tile holds (32 x 64), unaligned to it.
  for (bool causal : {false, true})
    EXPECT_GRADCHECK(attention(causal), {leaf({1, 1, 70, 2}), leaf({1, 1, 80, 2}), leaf({1, 1, 80, 2})});
  EXPECT_GRADCHECK(attention(true, pattern_mask({70, 70})), {leaf({70, 2}), leaf({70, 2}), leaf({70, 2})});
}

TEST(Attention, GradientsWithMasks) {
  // A [Tq, Tk] mask, a key-padding mask [B, 1, 1, Tk], and one per head [H, Tq, Tk], with causal.
  const Inputs qkv{leaf({2, 3, 5, 4}), leaf({2, 3, 6, 4}), leaf({2, 3, 6, 4})};
  EXPECT_GRADCHECK(attention(false, pattern_mask({5, 6})), qkv);
  EXPECT_GRADCHECK(attention(false, bool_tensor({1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0}, {2, 1, 1, 6})), qkv);
  EXPECT_GRADCHECK(attention(true, pattern_mask({3, 5, 5})),
                   {leaf({2, 3, 5, 4}), leaf({2, 3, 5, 4}), leaf({2, 3, 5, 4})});
}

TEST(Attention, GradientsOfNonContiguousOperands) {
  EXPECT_GRADCHECK(attention(true), {heads_leaf(2, 3, 5, 4), heads_leaf(2, 3, 5, 4), heads_leaf(2, 3, 5, 4)});
  // Transposed in the last two dims: rows of k and v without unit stride.
  EXPECT_GRADCHECK(attention(false), {leaf({2, 5, 3}), transposed_leaf({2, 6, 3}), transposed_leaf({2, 6, 4})});
}

// Heads interleaved in memory (a projection's [B, T, H, D] output seen as [B, H, T, D]) give an
// output in that layout, so merging the heads back is a view, not a copy. (The gradients are
// laid out the same way; the gradient checks above cover them.)
TEST(Attention, OutputKeepsInterleavedHeads) {
  const Tensor q = heads_leaf(2, 3, 5, 4), k = heads_leaf(2, 3, 6, 4), v = heads_leaf(2, 3, 6, 4);
  const Tensor out = scaled_dot_product_attention(q, k, v, false);
  EXPECT_FALSE(out.is_contiguous());
  EXPECT_TRUE(transpose(out, 1, 2).is_contiguous());
  // Heads that are not interleaved keep contiguous outputs.
  const Tensor a = leaf({2, 3, 5, 4});
  EXPECT_TRUE(scaled_dot_product_attention(a, a, a, true).is_contiguous());
}

TEST(Attention, ForwardMatchesComposedOps) {
  Tensor q = randn({2, 3, 37, 16}), k = randn({2, 3, 45, 16}), v = randn({2, 3, 45, 8});
  for (bool causal : {false, true}) {
    expect_close(scaled_dot_product_attention(q, k, v, causal), reference(q, k, v, causal), 1e-5);
    Tensor mask = pattern_mask({37, 45});
    expect_close(scaled_dot_product_attention(q, k, v, causal, mask), reference(q, k, v, causal, mask), 1e-5);
  }
  // Hand-computed: one query, two keys with scores 0 and ln 3 (scale 1): weights 1/4 and 3/4.
  Tensor q1 = from_vector<double>({1, 0}, {1, 2}), k1 = from_vector<double>({0, 1, std::log(3.0), 0}, {2, 2});
  Tensor v1 = from_vector<double>({4, 8, 0, 4}, {2, 2});
  expect_close(scaled_dot_product_attention(q1, k1, v1, false, {}, 0, true, 1.0), from_vector<double>({1, 5}, {1, 2}),
               1e-12);
}

TEST(Attention, LongSequenceMatchesComposedOps) {
  Tensor q = randn({1, 2, 1000, 64}), k = randn({1, 2, 1000, 64}), v = randn({1, 2, 1000, 64});
  for (bool causal : {false, true})
    expect_close(scaled_dot_product_attention(q, k, v, causal), reference(q, k, v, causal), 1e-5);
}

TEST(Attention, Float32GradientsMatchComposedOps) {
  // Several heads and key blocks: the per-chunk dq accumulators and the parallel paths.
  Tensor q = randn({2, 2, 100, 16}).set_requires_grad(), k = randn({2, 2, 130, 16}).set_requires_grad(),
         v = randn({2, 2, 130, 16}).set_requires_grad();
  Tensor up = randn({2, 2, 100, 16});
  backward(sum(scaled_dot_product_attention(q, k, v, true) * up));
  Tensor q2 = detach(q).set_requires_grad(), k2 = detach(k).set_requires_grad(), v2 = detach(v).set_requires_grad();
  backward(sum(reference(q2, k2, v2, true) * up));
  expect_close(q.grad(), q2.grad(), 1e-4);
  expect_close(k.grad(), k2.grad(), 1e-4);
  expect_close(v.grad(), v2.grad(), 1e-4);
}

TEST(Attention, Bfloat16FollowsFloat32) {
  Tensor q = randn({2, 2, 40, 16}), k = randn({2, 2, 40, 16}), v = randn({2, 2, 40, 16});
  auto bf = [](const Tensor& t) { return to(t, DType::BF16); };
  // Same rounded inputs on both sides: the difference is the bf16 output rounding.
  Tensor want = scaled_dot_product_attention(to(bf(q), DType::F32), to(bf(k), DType::F32), to(bf(v), DType::F32), true);
  expect_close(scaled_dot_product_attention(bf(q), bf(k), bf(v), true), want, 1e-2);
}

TEST(Attention, RowWithNoVisibleKeyIsZeroAndPassesNoGradient) {
  Tensor mask = bool_tensor({1, 0, 1, 0, 0, 0, 0, 1, 1}, {3, 3});
  Tensor q = leaf({3, 2}), k = leaf({3, 2}), v = leaf({3, 2});
  Tensor out = scaled_dot_product_attention(q, k, v, false, mask);
  std::vector<double> o = out.to_vector<double>();
  EXPECT_EQ(o[2], 0.0);
  EXPECT_EQ(o[3], 0.0);
  backward(sum(out));
  std::vector<double> gq = q.grad().to_vector<double>();
  EXPECT_EQ(gq[2], 0.0);
  EXPECT_EQ(gq[3], 0.0);
  EXPECT_GRADCHECK(attention(false, mask), {leaf({3, 2}), leaf({3, 2}), leaf({3, 2})});
}

TEST(Attention, DropoutIsSeededAndMatchesItsDocumentedMask) {
  Tensor q = randn({2, 3, 9, 4}), k = randn({2, 3, 11, 4}), v = randn({2, 3, 11, 4});
  const double p = 0.3;
  manual_seed(5);
  Tensor a = scaled_dot_product_attention(q, k, v, true, {}, p);
  manual_seed(5);
  const GeneratorState stream = next_stream();
  manual_seed(5);
  Tensor b = scaled_dot_product_attention(q, k, v, true, {}, p);
  Tensor c = scaled_dot_product_attention(q, k, v, true, {}, p);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_NE(a.to_vector<float>(), c.to_vector<float>());
  // Element ((b H + h) Tq + i) Tk + j of the stream decides probability (b, h, i, j).
  Tensor u = empty({2, 3, 9, 11});
  backend_for(Device::cpu()).uniform(u, stream.seed, stream.offset);
  Tensor keep = to(gt(u, scalar(p)), DType::F32) * static_cast<float>(1 / (1 - p));
  expect_close(a, reference(q, k, v, true, {}, keep), 1e-5);
  // Not training, or p = 0: no dropout; p = 1 drops everything.
  expect_close(scaled_dot_product_attention(q, k, v, true, {}, p, false), reference(q, k, v, true), 1e-5);
  expect_close(scaled_dot_product_attention(q, k, v, true, {}, 1.0), zeros({2, 3, 9, 4}), 0);
}

TEST(Attention, DropoutGradients) {
  // Re-seeding inside f makes every evaluation draw the same mask.
  auto f = [](bool causal) {
    return [causal](const Inputs& in) {
      manual_seed(11);
      return scaled_dot_product_attention(in[0], in[1], in[2], causal, {}, 0.4);
    };
  };
  EXPECT_GRADCHECK(f(false), {leaf({2, 2, 5, 3}), leaf({2, 2, 6, 3}), leaf({2, 2, 6, 3})});
  EXPECT_GRADCHECK(f(true), {leaf({1, 1, 70, 2}), leaf({1, 1, 70, 2}), leaf({1, 1, 70, 2})});
}

TEST(Attention, Errors) {
  Tensor q = zeros({2, 3, 5, 8});
  expect_error([&] { scaled_dot_product_attention(q, zeros({2, 3, 6, 7}), zeros({2, 3, 6, 7})); },
               "scaled_dot_product_attention: query [2,3,5,8] and key [2,3,6,7]: head dims 8 and 7 differ");
  expect_error([&] { scaled_dot_product_attention(q, zeros({2, 4, 6, 8}), zeros({2, 4, 6, 8})); },
               "query [2,3,5,8], key [2,4,6,8] and value [2,4,6,8]: leading (batch, head) dims differ");
  expect_error([&] { scaled_dot_product_attention(q, zeros({2, 3, 6, 8}), zeros({2, 3, 7, 8})); },
               "key [2,3,6,8] and value [2,3,7,8]: key lengths 6 and 7 differ");
  expect_error([&] { scaled_dot_product_attention(q, q, q, false, zeros({5, 5})); },
               "mask must be bool (true = attend), got f32 [5,5]");
  expect_error([&] { scaled_dot_product_attention(q, q, q, false, pattern_mask({4, 5})); },
               "mask [4,5] does not broadcast to the scores [2,3,5,5]");
  expect_error([&] { scaled_dot_product_attention(q, q, q, false, {}, 1.5); },
               "dropout probability 1.5 is outside [0, 1]");
  expect_error([&] { scaled_dot_product_attention(zeros({8}), zeros({8}), zeros({8})); }, "must each be [..., T, D]");
  EXPECT_THROW(scaled_dot_product_attention(q, zeros({2, 3, 5, 8}, {.dtype = DType::F64}), q), Error);
}

}  // namespace
}  // namespace ember
