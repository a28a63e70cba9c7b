// The FFT long convolution on CUDA (cuFFT) against the CPU backend (FFTW): forward and every
// subset of the backward's gradients for f32, f64 and bf16 over lengths from 1 to 4096 (padded
// FFT lengths with factors 2, 3, 5 and 7), with and without the skip term; strided and
// transposed operands; the spectra the forward keeps for the backward; the autograd op; an f64 gradient check on the GPU; and the Hyena
// operator module on both devices.
#include <cmath>
#include <sstream>

#include "autograd/fft_conv.h"
#include "nn/layers/hyena.h"
#include "tests/cuda/parity.h"

namespace ember {
namespace {

using testing::Both;
using testing::both;
using testing::close;
using testing::CudaTest;
using testing::empty_both;
using testing::on_both;
using testing::random;

const Device kGpu = Device::cuda();

// FFT round-off grows with log n on both sides, and the two libraries factor n differently, so
// f32 / f64 results agree to a few times less than an elementwise kernel's; bf16 results are
// rounded from f32 on both sides, so they differ by at most one bf16 step.
double fft_tolerance(DType dtype) { return dtype == DType::BF16 ? testing::tolerance(dtype) : 10 * testing::tolerance(dtype); }

double sqrt_of(int64_t n) { return std::sqrt(static_cast<double>(n)); }

// Runs fft_conv and every non-empty subset of {gu, gk, gd} of fft_conv_backward on both
// backends and compares. d may be undefined on both sides. Each output's scale is the typical
// magnitude of its sums: sqrt(K) products for y and gu, sqrt(B L) for gk and gd.
void expect_parity(const Both& u, const Both& k, const Both& d, const Both& gy) {
  const DType dtype = u.cpu.dtype();
  const int64_t batch = u.cpu.size(0), channels = u.cpu.size(1), length = u.cpu.size(2), taps = k.cpu.size(1);
  const double rtol = fft_tolerance(dtype), conv_scale = sqrt_of(taps) + 1, sum_scale = sqrt_of(batch * length);
  std::ostringstream trace;
  trace << dtype << " u " << u.cpu.shape() << " k " << k.cpu.shape() << (d.cpu.defined() ? " with D" : " without D");
  SCOPED_TRACE(trace.str());

  // The GPU keeps its spectra of u and k; every backward runs once transforming u and k again
  // and once reusing them (read only: the gradient subsets run one after another on them).
  Both y = empty_both(u.cpu.shape(), dtype);
  Backend::FftSpectra spectra;
  on_both([&](Backend& be, bool g) { be.fft_conv(u.on(g), k.on(g), d.on(g), y.on(g), g ? &spectra : nullptr); });
  EXPECT_TRUE(close(y, rtol, conv_scale)) << "y";
  EXPECT_TRUE(spectra.u.defined() && spectra.k.defined()) << "the CUDA backend keeps both spectra";

  for (int run = 0; run < 16; ++run) {
    const int mask = run % 8;
    const bool reuse = run >= 8;
    if (mask == 0) continue;
    SCOPED_TRACE("gradients mask " + std::to_string(mask) + " (1 gu, 2 gk, 4 gd)" + (reuse ? ", kept spectra" : ""));
    const Both none{};
    const Both gu = mask & 1 ? empty_both(u.cpu.shape(), dtype) : none;
    const Both gk = mask & 2 ? empty_both(k.cpu.shape(), dtype) : none;
    const Both gd = mask & 4 ? empty_both({channels}, dtype) : none;
    on_both([&](Backend& be, bool g) {
      be.fft_conv_backward(gy.on(g), u.on(g), k.on(g), d.on(g), gu.on(g), gk.on(g), gd.on(g),
                           g && reuse ? &spectra : nullptr);
    });
    if (mask & 1) {
      EXPECT_TRUE(close(gu, rtol, conv_scale)) << "gu";
    }
    if (mask & 2) {
      EXPECT_TRUE(close(gk, rtol, sum_scale)) << "gk";
    }
    if (mask & 4) {
      EXPECT_TRUE(close(gd, rtol, sum_scale)) << "gd";
    }
  }
}

TEST_F(CudaTest, FftConvMatchesCpuForEveryLengthDtypeAndGradientSubset) {
  const int64_t batch = 2, channels = 3;
  for (DType dtype : {DType::F32, DType::F64, DType::BF16}) {
    for (int64_t length : {1, 7, 100, 1000, 4096}) {
      // K == L, and K about L / 2 (padded lengths 14, 10, 200, 150, 2000, 1500, 8192, 6144).
      for (int64_t taps : {length, (length + 1) / 2}) {
        const Both u = both(random({batch, channels, length}, dtype)), k = both(random({channels, taps}, dtype));
        const Both gy = both(random({batch, channels, length}, dtype));
        expect_parity(u, k, Both{}, gy);
        expect_parity(u, k, both(random({channels}, dtype)), gy);
        if (length == 1) break;  // (length + 1) / 2 == length
      }
    }
  }
}

TEST_F(CudaTest, FftConvMatchesCpuOnStridedAndTransposedOperands) {
  for (DType dtype : {DType::F32, DType::F64, DType::BF16}) {
    // u: channels and batches strided inside a larger buffer; k stored as [K, C] (channel
    // stride 1, Hyena's layout: the tiled pad kernel, 40 channels = one full and one partial
    // tile); D a stride-2 view; gy stored as [B, L, C].
    const Tensor u_base = random({3, 90, 110}, dtype);
    const Both u = both(slice(slice(u_base, 1, 5, 45), 2, 3, 103));
    const Both k = both(testing::random_transposed({40, 70}, dtype));
    const Both d = both(slice(random({80}, dtype), 0, 0, 80, 2));
    const Both gy = both(detach(transpose(random({3, 100, 40}, dtype), 1, 2)));
    expect_parity(u, k, d, gy);
    // u itself transposed ([B, L, C] storage, as Hyena's projection produces), batch > 1 for the
    // tiled kernel, and a short filter.
    const Both ut = both(detach(transpose(random({3, 100, 40}, dtype), 1, 2)));
    expect_parity(ut, both(random({40, 9}, dtype)), d, gy);
  }
}

TEST_F(CudaTest, FftConvReturnsItsScratchMemoryToThePool) {
  const Tensor u = randn({2, 8, 300}, {.device = kGpu}), k = randn({8, 300}, {.device = kGpu});
  const Tensor d = randn({8}, {.device = kGpu}), y = empty({2, 8, 300}, {.device = kGpu});
  const Tensor gu = empty({2, 8, 300}, {.device = kGpu}), gk = empty({8, 300}, {.device = kGpu});
  const Tensor gd = empty({8}, {.device = kGpu});
  Backend& be = backend_for(kGpu);
  const size_t before = allocator_for(kGpu).bytes_in_use();
  be.fft_conv(u, k, d, y);
  be.fft_conv_backward(y, u, k, d, gu, gk, gd);
  EXPECT_EQ(allocator_for(kGpu).bytes_in_use(), before);
  {  // kept spectra hold their memory until they go
    Backend::FftSpectra spectra;
    be.fft_conv(u, k, d, y, &spectra);
    EXPECT_GT(allocator_for(kGpu).bytes_in_use(), before);
    be.fft_conv_backward(y, u, k, d, gu, gk, gd, &spectra);
  }
  EXPECT_EQ(allocator_for(kGpu).bytes_in_use(), before);
}

TEST_F(CudaTest, FftConvRejectsMismatchedOperands) {
  const Tensor u = randn({1, 4, 10}, {.device = kGpu}), y = empty({1, 4, 10}, {.device = kGpu});
  Backend& be = backend_for(kGpu);
  EXPECT_THROW(be.fft_conv(u, randn({4, 11}, {.device = kGpu}), Tensor(), y), Error);  // K > L
  EXPECT_THROW(be.fft_conv(u, randn({3, 5}, {.device = kGpu}), Tensor(), y), Error);   // channels
  EXPECT_THROW(be.fft_conv(u, randn({4, 5}), Tensor(), y), Error);                     // filter on the CPU
  EXPECT_THROW(be.fft_conv(u, randn({4, 5}, {.device = kGpu}), randn({5}, {.device = kGpu}), y), Error);  // D
}

// Leaves holding the same values on the CPU and on the GPU.
struct LeafPair {
  Tensor cpu, gpu;
  LeafPair(const Shape& shape, DType dtype, bool requires_grad) {
    cpu = random(shape, dtype);
    gpu = to(cpu, kGpu);
    if (!requires_grad) return;
    cpu.set_requires_grad();
    gpu.set_requires_grad();
  }
};

TEST_F(CudaTest, FftConvAutogradMatchesCpu) {
  for (DType dtype : {DType::F32, DType::F64}) {
    const double rtol = fft_tolerance(dtype);
    // All three gradients, then only the filter's (u constant, no skip term): the gk-only path.
    for (bool all : {true, false}) {
      SCOPED_TRACE(all ? "u, k, D require grad" : "only k requires grad");
      const LeafPair u({2, 5, 64}, dtype, all), k({5, 40}, dtype, true), d({5}, dtype, all), w({2, 5, 64}, dtype, false);
      const Tensor d_cpu = all ? d.cpu : Tensor(), d_gpu = all ? d.gpu : Tensor();
      const Tensor y_cpu = fft_conv(u.cpu, k.cpu, d_cpu), y_gpu = fft_conv(u.gpu, k.gpu, d_gpu);
      backward(sum(y_cpu * w.cpu));
      backward(sum(y_gpu * w.gpu));
      EXPECT_TRUE(close(y_gpu, y_cpu, rtol, sqrt_of(40) + 1));
      EXPECT_TRUE(close(k.gpu.grad(), k.cpu.grad(), rtol, sqrt_of(2 * 64)));
      if (!all) {
        EXPECT_FALSE(u.gpu.grad().defined());
        continue;
      }
      EXPECT_TRUE(close(u.gpu.grad(), u.cpu.grad(), rtol, sqrt_of(40) + 1));
      EXPECT_TRUE(close(d.gpu.grad(), d.cpu.grad(), rtol, sqrt_of(2 * 64)));
    }
  }
}

using Inputs = std::vector<Tensor>;

Tensor gpu_leaf(const Shape& shape) { return randn(shape, {.dtype = DType::F64, .device = kGpu}).set_requires_grad(); }

TEST_F(CudaTest, GradcheckFftConv) {
  // A transposed filter, K < L, with the skip term; then K == L without it.
  const Tensor k = detach(transpose(randn({7, 3}, {.dtype = DType::F64, .device = kGpu}), 0, 1)).set_requires_grad();
  EXPECT_GRADCHECK([](const Inputs& in) { return fft_conv(in[0], in[1], in[2]); },
                   {gpu_leaf({2, 3, 11}), k, gpu_leaf({3})});
  EXPECT_GRADCHECK([](const Inputs& in) { return fft_conv(in[0], in[1]); }, {gpu_leaf({1, 2, 6}), gpu_leaf({2, 6})});
}

// The root mean square of x's values: the scale its comparison is relative to.
double rms(const Tensor& x) {
  double s = 0;
  for (double v : x.to_vector<double>()) s += v * v;
  return std::sqrt(s / static_cast<double>(std::max<int64_t>(x.numel(), 1)));
}

TEST_F(CudaTest, HyenaOperatorForwardBackwardMatchesCpu) {
  const nn::HyenaOptions options{.order = 2, .filter_width = 16, .filter_depth = 1, .emb_dim = 5};
  manual_seed(11);
  nn::HyenaOperator cpu(16, 64, options);
  manual_seed(11);
  nn::HyenaOperator gpu(16, 64, options);
  gpu.to(kGpu);
  const Tensor x = randn({2, 50, 16}), w = randn({2, 50, 16});
  const Tensor y_cpu = cpu(x), y_gpu = gpu(to(x, kGpu));
  backward(sum(y_cpu * w));
  backward(sum(y_gpu * to(w, kGpu)));
  // f32 through projections, a short convolution, the filter FFN and two long convolutions,
  // each summing in its own order on either device; a mistake would be off by O(1).
  const double rtol = 1e-3;
  EXPECT_TRUE(close(y_gpu, y_cpu, rtol, rms(y_cpu)));
  const auto params_cpu = cpu.named_parameters(), params_gpu = gpu.named_parameters();
  ASSERT_EQ(params_cpu.size(), params_gpu.size());
  for (size_t i = 0; i < params_cpu.size(); ++i) {
    const Tensor gc = params_cpu[i].second.grad(), gg = params_gpu[i].second.grad();
    ASSERT_TRUE(gc.defined() && gg.defined()) << params_cpu[i].first;
    EXPECT_TRUE(close(gg, gc, rtol, rms(gc))) << params_cpu[i].first;
  }
}

}  // namespace
}  // namespace ember
