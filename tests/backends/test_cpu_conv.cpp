// CpuBackend's convolution (oneDNN for f32 where built with it) against the portable loops:
// two independent implementations agreeing on random inputs, forward and both backward passes.
#include <thread>

#include "backends/backend.h"
#include "backends/cpu/conv_fallback.h"
#include "tests/testing.h"

namespace ember {
namespace {

Backend& cpu() { return backend_for(Device::cpu()); }

// max |x - y| / max |y|: the error relative to the result's scale, robust to entries near 0.
double rel_error(const Tensor& x, const Tensor& y) {
  std::vector<double> xv = x.to_vector<double>(), yv = y.to_vector<double>();
  double err = 0, scale = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    err = std::max(err, std::abs(xv[i] - yv[i]));
    scale = std::max(scale, std::abs(yv[i]));
  }
  return err / std::max(scale, 1e-30);
}

struct Case {
  Shape x, w;
  Backend::Conv2dParams p;
};

int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation) {
  return (in + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
}

Shape out_shape(const Case& c) {
  return {c.x[0], c.w[0], out_size(c.x[2], c.w[2], c.p.stride_h, c.p.pad_h, c.p.dilation_h),
          out_size(c.x[3], c.w[3], c.p.stride_w, c.p.pad_w, c.p.dilation_w)};
}

const Case kCases[] = {
    {{2, 3, 9, 8}, {5, 3, 3, 3}, {}},
    {{2, 1, 28, 28}, {32, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 1}},        // the MNIST CNN's layers
    {{2, 32, 14, 14}, {64, 32, 3, 3}, {1, 1, 1, 1, 1, 1, 1}},
    {{3, 16, 11, 10}, {24, 16, 5, 3}, {2, 1, 2, 0, 1, 2, 1}},      // stride, padding, dilation
    {{2, 8, 9, 9}, {12, 2, 3, 3}, {1, 2, 1, 1, 2, 1, 4}},          // groups
    {{2, 16, 12, 12}, {16, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 16}},      // depthwise
    {{2, 6, 10, 7}, {12, 1, 5, 3}, {2, 2, 2, 1, 1, 1, 6}},         // depthwise, multiplier 2
    {{4, 16, 1, 50}, {32, 16, 1, 7}, {1, 2, 0, 3, 1, 2, 1}},       // conv1d (H = 1)
    {{4, 24, 1, 40}, {24, 1, 1, 4}, {1, 1, 0, 3, 1, 1, 24}},       // depthwise conv1d, causal-style
    {{1, 4, 5, 5}, {4, 4, 5, 5}, {}},                              // kernel covers the image
    {{2, 5, 7, 7}, {3, 5, 2, 2}, {3, 3, 0, 0, 1, 1, 1}},           // stride skips pixels
};

TEST(CpuConv, BackendMatchesFallbackForwardAndBackward) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(::testing::Message() << "x " << c.x << " w " << c.w << " groups " << c.p.groups);
    const Shape ys = out_shape(c);
    Tensor x = randn(c.x), w = randn(c.w), b = randn({c.w[0]}), gy = randn(ys);
    for (bool bias : {true, false}) {
      Tensor bb = bias ? b : Tensor();
      Tensor fast = empty(ys), slow = empty(ys);
      cpu().conv2d(x, w, bb, c.p, fast);
      cpu::conv2d_fallback(x, w, bb, c.p, slow);
      EXPECT_LT(rel_error(fast, slow), 1e-4) << "forward, bias " << bias;

      Tensor gw_fast = empty(c.w), gw_slow = empty(c.w);
      Tensor gb_fast = bias ? empty({c.w[0]}) : Tensor(), gb_slow = bias ? empty({c.w[0]}) : Tensor();
      cpu().conv2d_backward_weight(gy, x, c.p, gw_fast, gb_fast);
      cpu::conv2d_backward_weight_fallback(gy, x, c.p, gw_slow, gb_slow);
      EXPECT_LT(rel_error(gw_fast, gw_slow), 1e-4) << "weight gradient, bias " << bias;
      if (bias) {
        EXPECT_LT(rel_error(gb_fast, gb_slow), 1e-4) << "bias gradient";
      }
    }
    Tensor gx_fast = empty(c.x), gx_slow = empty(c.x);
    cpu().conv2d_backward_data(gy, w, c.p, gx_fast);
    cpu::conv2d_backward_data_fallback(gy, w, c.p, gx_slow);
    EXPECT_LT(rel_error(gx_fast, gx_slow), 1e-4) << "data gradient";
  }
}

TEST(CpuConv, StridedOperandsAreReadThroughTheirStrides) {
  const Case c{{2, 3, 6, 7}, {4, 3, 3, 2}, {1, 2, 1, 0, 1, 1, 1}};
  const Shape ys = out_shape(c);
  Tensor x = transpose(randn({2, 3, 7, 6}), -1, -2), w = transpose(randn({4, 3, 2, 3}), -1, -2);
  Tensor gy = broadcast_view(randn({1, ys[1], ys[2], ys[3]}), ys, "test");  // an expanded gradient
  Tensor xd = contiguous(x), wd = contiguous(w), gyd = contiguous(gy);
  Tensor y = empty(ys), want = empty(ys);
  cpu().conv2d(x, w, Tensor(), c.p, y);
  cpu::conv2d_fallback(xd, wd, Tensor(), c.p, want);
  EXPECT_LT(rel_error(y, want), 1e-4);
  Tensor gx = empty(c.x), gx_want = empty(c.x);
  cpu().conv2d_backward_data(gy, w, c.p, gx);
  cpu::conv2d_backward_data_fallback(gyd, wd, c.p, gx_want);
  EXPECT_LT(rel_error(gx, gx_want), 1e-4);
  Tensor gw = empty(c.w), gw_want = empty(c.w);
  cpu().conv2d_backward_weight(gy, x, c.p, gw, Tensor());
  cpu::conv2d_backward_weight_fallback(gyd, xd, c.p, gw_want, Tensor());
  EXPECT_LT(rel_error(gw, gw_want), 1e-4);
}

TEST(CpuConv, F64AndBf16TakeTheLoops) {
  const Case c{{2, 4, 6, 6}, {6, 2, 3, 3}, {1, 1, 1, 1, 1, 1, 2}};
  const Shape ys = out_shape(c);
  Tensor x = randn(c.x), w = randn(c.w), b = randn({6});
  Tensor want = empty(ys);
  cpu().conv2d(x, w, b, c.p, want);
  for (DType dtype : {DType::F64, DType::BF16}) {
    Tensor y = empty(ys, {.dtype = dtype});
    cpu().conv2d(to(x, dtype), to(w, dtype), to(b, dtype), c.p, y);
    EXPECT_LT(rel_error(y, want), dtype == DType::F64 ? 1e-5 : 2e-2) << dtype;
  }
}

TEST(CpuConv, ThreadsShareOnePlanSafely) {
  const Case c{{4, 8, 12, 12}, {16, 8, 3, 3}, {1, 1, 1, 1, 1, 1, 1}};
  const Shape ys = out_shape(c);
  Tensor x = randn(c.x), w = randn(c.w), gy = randn(ys);
  Tensor want_y = empty(ys), want_gx = empty(c.x);
  cpu::conv2d_fallback(x, w, Tensor(), c.p, want_y);
  cpu::conv2d_backward_data_fallback(gy, w, c.p, want_gx);
  std::vector<Tensor> ys_out(4), gxs(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < ys_out.size(); ++t) {
    ys_out[t] = empty(ys);
    gxs[t] = empty(c.x);
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        cpu().conv2d(x, w, Tensor(), c.p, ys_out[t]);
        cpu().conv2d_backward_data(gy, w, c.p, gxs[t]);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (size_t t = 0; t < ys_out.size(); ++t) {
    EXPECT_LT(rel_error(ys_out[t], want_y), 1e-4);
    EXPECT_LT(rel_error(gxs[t], want_gx), 1e-4);
  }
}

}  // namespace
}  // namespace ember
