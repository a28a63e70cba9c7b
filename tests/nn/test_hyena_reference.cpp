// The Hyena operator against an independent computation: the same projections and gates, but
// each long convolution summed directly in O(T^2) on the host instead of through fft_conv.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/nn.h"
#include "tests/testing.h"

using namespace ember;

namespace {

nn::ModulePtr child(const nn::Module& m, const std::string& name) {
  for (const auto& [n, c] : m.named_children())
    if (n == name) return c;
  ADD_FAILURE() << "no child " << name;
  return nullptr;
}

// y[b, c, t] = sum_{s <= t} h[c, t - s] v[b, c, s] + D[c] v[b, c, t], in f64 on the host.
Tensor direct_causal_conv(const Tensor& v, const Tensor& h, const Tensor& D) {
  const Tensor vc = contiguous(v), hc = contiguous(h), dc = contiguous(D);
  const int64_t B = v.size(0), C = v.size(1), L = v.size(2);
  const double* pv = vc.data<double>();
  const double* ph = hc.data<double>();
  const double* pd = dc.data<double>();
  std::vector<double> out(static_cast<size_t>(B * C * L));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t t = 0; t < L; ++t) {
        double s = pd[c] * pv[(b * C + c) * L + t];
        for (int64_t j = 0; j <= t; ++j) s += ph[c * L + (t - j)] * pv[(b * C + c) * L + j];
        out[static_cast<size_t>((b * C + c) * L + t)] = s;
      }
  return from_vector(out, {B, C, L}, {.dtype = DType::F64});
}

}  // namespace

TEST(HyenaReference, MatchesDirectLongConvolution) {
  for (const int64_t order : {1, 2, 3}) {
    for (const int64_t length : {1, 16, 37}) {  // 37: prime, so the FFT length is not the input's
      const int64_t d = 6;
      nn::HyenaOperator op(d, 64, {.order = order});
      op.to(DType::F64);
      op.eval();
      const Tensor u = randn({2, length, d}, {.dtype = DType::F64});
      const Tensor y = op(u);

      Tensor z = transpose((*child(op, "in_proj"))(u), 1, 2);
      z = slice((*child(op, "short_filter"))(z), 2, 0, length);
      const std::vector<Tensor> blocks = split(z, d, 1);
      auto filter = std::dynamic_pointer_cast<nn::HyenaFilter>(child(op, "filter_fn"));
      ASSERT_TRUE(filter);
      const Tensor h = transpose(filter->filter(length), 0, 1);
      Tensor v = blocks.back();
      for (int64_t n = 0; n < order; ++n)
        v = blocks[static_cast<size_t>(n)] * direct_causal_conv(v, slice(h, 0, n * d, (n + 1) * d),
                                                                slice(filter->bias(), 0, n * d, (n + 1) * d));
      const Tensor expected = (*child(op, "out_proj"))(transpose(v, 1, 2));
      const double err = max(abs(y - expected)).item(), scale = max(abs(expected)).item();
      EXPECT_LT(err, 1e-11 * std::max(1.0, scale)) << "order " << order << ", length " << length;
    }
  }
}
