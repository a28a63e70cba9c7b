#include <algorithm>
#include <cmath>

#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

// The O(L K) causal convolution, on the host in double: y[b,c,t] = sum_s k[c,s] u[b,c,t-s] + D[c] u[b,c,t].
Tensor direct(const Tensor& u, const Tensor& k, const Tensor& D) {
  const int64_t B = u.size(0), C = u.size(1), L = u.size(2), K = k.size(1);
  const std::vector<double> uv = to(u, DType::F64).to_vector<double>(), kv = to(k, DType::F64).to_vector<double>();
  const std::vector<double> dv = D.defined() ? to(D, DType::F64).to_vector<double>() : std::vector<double>(C, 0.0);
  std::vector<double> y(uv.size(), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t t = 0; t < L; ++t) {
        const size_t row = static_cast<size_t>((b * C + c) * L);
        double acc = dv[c] * uv[row + t];
        for (int64_t s = 0; s <= std::min(t, K - 1); ++s) acc += kv[c * K + s] * uv[row + t - s];
        y[row + t] = acc;
      }
  return from_vector<double>(y, u.shape());
}

void expect_close(const Tensor& got, const Tensor& want, double tol) {
  ASSERT_EQ(got.shape(), want.shape());
  const std::vector<double> g = to(got, DType::F64).to_vector<double>(), w = to(want, DType::F64).to_vector<double>();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (!(std::abs(g[i] - w[i]) <= worst)) worst = std::abs(g[i] - w[i]), at = i;
  EXPECT_LE(worst, tol) << "element " << at << ": " << g[at] << " vs " << w[at];
}

using ::ember::testing::expect_error;

Tensor conv(const Inputs& in) { return fft_conv(in[0], in[1], in.size() > 2 ? in[2] : Tensor()); }

TEST(FftConv, GradientsOverLengthsThatAreNotPowersOfTwo) {
  for (int64_t L : {1, 7, 13, 33}) {
    for (int64_t K : {L, (L + 1) / 2}) {
      EXPECT_GRADCHECK(conv, {leaf({2, 3, L}), leaf({3, K}), leaf({3})});
      EXPECT_GRADCHECK(conv, {leaf({3, 2, L}), leaf({2, K})});
    }
  }
}

TEST(FftConv, GradientsOfNonContiguousOperandsAndPartialRequests) {
  // u as the transpose of a [B, L, C] projection output, k as the transpose of [K, C], D strided.
  Tensor u = detach(transpose(randn({2, 13, 4}, {.dtype = DType::F64}), 1, 2)).set_requires_grad();
  Tensor k = transposed_leaf({4, 9});
  Tensor D = detach(slice(randn({8}, {.dtype = DType::F64}), 0, 0, 8, 2)).set_requires_grad();
  EXPECT_GRADCHECK(conv, {u, k, D});
  EXPECT_GRADCHECK(conv, {detach(u), k, detach(D)});
  EXPECT_GRADCHECK(conv, {u, detach(k), detach(D)});
  EXPECT_GRADCHECK(conv, {detach(u), detach(k), D});
}

TEST(FftConv, ForwardValuesByHand) {
  // y[0] = 1 + 2 * 1, y[1] = 2 + 0.5 * 1 + 2 * 2, y[2] = 3 + 0.5 * 2 + 2 * 3.
  Tensor y = fft_conv(from_vector<double>({1, 2, 3}, {1, 1, 3}), from_vector<double>({1, 0.5}, {1, 2}),
                      from_vector<double>({2}, {1}));
  expect_close(y, from_vector<double>({3, 6.5, 10}, {1, 1, 3}), 1e-12);
}

TEST(FftConv, ForwardMatchesDirectConvolution) {
  for (int64_t L : {5, 31, 100, 257}) {
    Tensor u = randn({3, 4, L}, {.dtype = DType::F64}), k = randn({4, L - L / 3}, {.dtype = DType::F64}),
           D = randn({4}, {.dtype = DType::F64});
    expect_close(fft_conv(u, k, D), direct(u, k, D), 1e-10 * static_cast<double>(L));
    expect_close(fft_conv(u, k), direct(u, k, {}), 1e-10 * static_cast<double>(L));
  }
}

// Odd and prime lengths (the transforms' lengths are then not powers of two) and odd filter
// lengths, forward and all three gradients against the direct O(L K) sums written out:
//   gu[b,c,t] = sum_s k[c,s] g[b,c,t+s] + D[c] g[b,c,t],  gk[c,s] = sum_{b,t} g[b,c,t] u[b,c,t-s],
//   gD[c] = sum_{b,t} g[b,c,t] u[b,c,t].
TEST(FftConv, OddAndPrimeLengthsMatchDirectConvolutionWithGradients) {
  for (int64_t L : {1, 3, 7, 13, 97, 101, 211})
    for (int64_t K : {int64_t{1}, (L + 1) / 2, L}) {
      SCOPED_TRACE(::testing::Message() << "L " << L << " K " << K);
      const int64_t B = 2, C = 3;
      Tensor u = leaf({B, C, L}), k = leaf({C, K}), D = leaf({C});
      Tensor y = fft_conv(u, k, D);
      expect_close(y, direct(u, k, D), 1e-12 * static_cast<double>(L + 10));
      expect_close(fft_conv(to(u, DType::F32), to(k, DType::F32), to(D, DType::F32)), direct(u, k, D),
                   2e-5 * std::sqrt(static_cast<double>(K)) * 4);
      Tensor g = randn({B, C, L}, {.dtype = DType::F64});
      backward(y, g);
      const std::vector<double> uv = u.to_vector<double>(), kv = k.to_vector<double>(), dv = D.to_vector<double>(),
                                gv = g.to_vector<double>();
      std::vector<double> gu(uv.size(), 0.0), gk(kv.size(), 0.0), gd(dv.size(), 0.0);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c) {
          const size_t row = static_cast<size_t>((b * C + c) * L);
          for (int64_t t = 0; t < L; ++t) {
            gd[c] += gv[row + t] * uv[row + t];
            gu[row + t] += dv[c] * gv[row + t];
            for (int64_t s = 0; s < K && t + s < L; ++s) gu[row + t] += kv[c * K + s] * gv[row + t + s];
            for (int64_t s = 0; s <= std::min(t, K - 1); ++s) gk[c * K + s] += gv[row + t] * uv[row + t - s];
          }
        }
      const double tol = 1e-12 * static_cast<double>(L + 10) * 4;
      expect_close(u.grad(), from_vector(gu, u.shape()), tol);
      expect_close(k.grad(), from_vector(gk, k.shape()), tol);
      expect_close(D.grad(), from_vector(gd, D.shape()), tol);
    }
}

TEST(FftConv, OutputsBeforeAChangeDoNotSeeIt) {
  Tensor u = randn({2, 3, 40}, {.dtype = DType::F64}), k = randn({3, 40}, {.dtype = DType::F64});
  Tensor changed = clone(u);
  fill_(slice(changed, 2, 25, 40), 7.0);
  Tensor before = slice(fft_conv(u, k), 2, 0, 25), after = slice(fft_conv(changed, k), 2, 0, 25);
  expect_close(after, before, 1e-12);  // the rounding of the transforms differs, nothing more
}

// Many channels and a long sequence in f32 (the threaded path), forward and all gradients,
// against the same computation in f64.
TEST(FftConv, Float32FollowsFloat64OnLongSequences) {
  const Shape us{2, 40, 1000};
  Inputs f64{randn(us, {.dtype = DType::F64}), randn({40, 700}, {.dtype = DType::F64}),
             randn({40}, {.dtype = DType::F64})};
  Inputs f32;
  for (Tensor& t : f64) {
    t.set_requires_grad();
    f32.push_back(detach(to(t, DType::F32)).set_requires_grad());
  }
  const Tensor g = randn(us, {.dtype = DType::F64});
  Tensor y64 = conv(f64), y32 = conv(f32);
  expect_close(y32, y64, 2e-3);
  backward(y64, g);
  backward(y32, to(g, DType::F32));
  expect_close(f32[0].grad(), f64[0].grad(), 2e-3);
  expect_close(f32[1].grad(), f64[1].grad(), 2e-2);  // sums over 2 x 1000 products
  expect_close(f32[2].grad(), f64[2].grad(), 2e-2);
}

TEST(FftConv, Bf16FollowsFloat32) {
  Tensor u = randn({2, 3, 50}), k = randn({3, 50}) * 0.1, D = randn({3});
  Tensor y16 = fft_conv(to(u, DType::BF16), to(k, DType::BF16), to(D, DType::BF16));
  EXPECT_EQ(y16.dtype(), DType::BF16);
  expect_close(y16, fft_conv(u, k, D), 0.1);
}

TEST(FftConv, ErrorsNameTheOpAndShapes) {
  Tensor u = zeros({2, 3, 8});
  expect_error([&] { fft_conv(zeros({3, 8}), zeros({3, 8})); }, "fft_conv: input [3,8] must be [B, C, L]");
  expect_error([&] { fft_conv(u, zeros({3, 8, 1})); }, "fft_conv: filter [3,8,1] must be [C, K]");
  expect_error([&] { fft_conv(u, zeros({4, 8})); }, "fft_conv: input [2,3,8] has 3 channels, filter [4,8] has 4");
  expect_error([&] { fft_conv(u, zeros({3, 9})); }, "fft_conv: filter [3,9] must have 1 to L = 8 taps");
  expect_error([&] { fft_conv(u, zeros({3, 8}), zeros({2})); }, "fft_conv: skip term D [2] must be [3], one per channel of input [2,3,8]");
  expect_error([&] { fft_conv(u, zeros({3, 8}, {.dtype = DType::F64})); }, "fft_conv: dtype mismatch");
  expect_error([&] { fft_conv(zeros({2, 3, 8}, {.dtype = DType::I64}), zeros({3, 8})); },
               "fft_conv: expected a floating tensor");
}

}  // namespace
}  // namespace ember
