// Depthwise convolution (groups == in channels == out channels, so one filter per channel, such
// as the Hyena operator's short causal filter) computed directly, without conv.cu's im2col:
// with one input channel per group, each output reads only KH KW inputs, and a GEMM of one
// row per group would spend its time on the unfolded copy.
//   forward          y[n,c,oh,ow]  = sum_taps w[c,tap] x[n,c,ih,iw] (+ b[c]), a thread per output
//   backward data    gx[n,c,h,w]   = sum of gy w over the (tap, output) pairs that read (h, w),
//                                    a thread per input pixel (a gather: no atomics)
//   backward weight  gw[c,tap]     = sum_{n,oh,ow} gy x: blocks over (channel, slice of the
//                                    outputs) write partial sums, a second pass adds the slices
//                                    in a fixed order, so the result does not depend on timing.
// x and gy may have any strides (Hyena's input is a transposed view); results are contiguous.
// Sums run in the compute type (f32 for bf16) and are rounded once.
#include <algorithm>
#include <cstdint>

#include "backends/cuda/block_reduce.cuh"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"
#include "backends/cuda/conv_geometry.h"
#include "backends/cuda/cuda_backend.h"
#include "tensor/creation.h"

namespace ember::cuda {
namespace {

// A [N,C,H,W] operand with any strides.
template <typename T>
struct Image {
  T* data;
  int64_t s[4];
  __device__ T& at(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return data[n * s[0] + c * s[1] + h * s[2] + w * s[3]];
  }
};

template <typename T>
Image<T> image_of(const Tensor& t) {
  return {static_cast<T*>(t.data_ptr()), {t.stride(0), t.stride(1), t.stride(2), t.stride(3)}};
}

// Index arithmetic in I: uint32_t where every element count fits (32-bit division is several
// times cheaper than 64-bit), int64_t otherwise. Offsets into memory stay 64-bit.
template <typename T, typename C, typename I>
struct Forward {
  Image<const T> x;
  const T* w;  // [C, KH, KW], contiguous
  const T* bias;
  int64_t bias_stride;
  T* y;  // contiguous
  ConvGeometry g;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const I i = static_cast<I>(off[0]), ow = i % static_cast<I>(g.OW), rest = i / static_cast<I>(g.OW);
    const I oh = rest % static_cast<I>(g.OH), nc = rest / static_cast<I>(g.OH);
    const I c = nc % static_cast<I>(g.C), n = nc / static_cast<I>(g.C);
    C acc = bias ? widen(bias[c * bias_stride]) : C(0);
    const T* wc = w + c * g.KH * g.KW;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t h = oh * g.sh + kh * g.dh - g.ph;
      if (h < 0 || h >= g.H) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = ow * g.sw + kw * g.dw - g.pw;
        if (iw >= 0 && iw < g.W) acc += widen(wc[kh * g.KW + kw]) * widen(x.at(n, c, h, iw));
      }
    }
    y[off[0]] = narrow<T>(acc);
  }
};

// Whether position p (a padded input coordinate) is an output's tap: p = o s with 0 <= o < count.
template <typename I>
__device__ __forceinline__ bool tap_output(int64_t p, int64_t s, int64_t count, I& o) {
  if (s == 1) {
    o = static_cast<I>(p);
    return p < count;
  }
  const I q = static_cast<I>(p) / static_cast<I>(s);
  o = q;
  return static_cast<I>(p) == q * static_cast<I>(s) && q < static_cast<I>(count);
}

template <typename T, typename C, typename I>
struct BackwardData {
  Image<const T> gy;
  const T* w;
  T* gx;  // contiguous
  ConvGeometry g;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const I i = static_cast<I>(off[0]), w_ = i % static_cast<I>(g.W), rest = i / static_cast<I>(g.W);
    const I h = rest % static_cast<I>(g.H), nc = rest / static_cast<I>(g.H);
    const I c = nc % static_cast<I>(g.C), n = nc / static_cast<I>(g.C);
    C acc = 0;
    const T* wc = w + c * g.KH * g.KW;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = h + g.ph - kh * g.dh;  // oh * sh
      if (ih < 0) break;                        // and below for every later tap
      I oh;
      if (!tap_output(ih, g.sh, g.OH, oh)) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = w_ + g.pw - kw * g.dw;
        if (iw < 0) break;
        I ow;
        if (tap_output(iw, g.sw, g.OW, ow)) acc += widen(gy.at(n, c, oh, ow)) * widen(wc[kh * g.KW + kw]);
      }
    }
    gx[off[0]] = narrow<T>(acc);
  }
};

constexpr int kTapGroup = 4;  // taps summed per pass over the outputs

// Block (c, s) sums gy x over outputs [s chunk, (s + 1) chunk) of channel c for each tap,
// kTapGroup taps per pass so that an output's position is worked out once per pass.
template <typename T, typename C, typename I>
__global__ void __launch_bounds__(kThreads)
    weight_partials_kernel(Image<const T> gy, Image<const T> x, ConvGeometry g, int64_t chunk, C* partial) {
  const int64_t c = blockIdx.x, s = blockIdx.y, slices = gridDim.y, taps = g.KH * g.KW;
  const int64_t begin = s * chunk, end = std::min(begin + chunk, g.N * g.P());
  for (int64_t t0 = 0; t0 < taps; t0 += kTapGroup) {
    C acc[kTapGroup] = {};
    for (int64_t q = begin + threadIdx.x; q < end; q += kThreads) {
      const I ow = static_cast<I>(q) % static_cast<I>(g.OW), rest = static_cast<I>(q) / static_cast<I>(g.OW);
      const I oh = rest % static_cast<I>(g.OH), n = rest / static_cast<I>(g.OH);
      const C dy = widen(gy.at(n, c, oh, ow));
#pragma unroll
      for (int j = 0; j < kTapGroup; ++j) {
        const int64_t tap = t0 + j;
        if (tap >= taps) break;
        const int64_t kh = tap / g.KW, kw = tap % g.KW;
        const int64_t h = oh * g.sh + kh * g.dh - g.ph, w = ow * g.sw + kw * g.dw - g.pw;
        if (h >= 0 && h < g.H && w >= 0 && w < g.W) acc[j] += dy * widen(x.at(n, c, h, w));
      }
    }
#pragma unroll
    for (int j = 0; j < kTapGroup; ++j) {
      const C total = block_sum(acc[j]);
      if (threadIdx.x == 0 && t0 + j < taps) partial[(c * slices + s) * taps + t0 + j] = total;
    }
  }
}

template <typename T, typename C>
struct SumSlices {
  const C* partial;  // [C][slices][taps]
  T* gw;             // [C][taps]
  int64_t slices, taps;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0], c = i / taps, tap = i % taps;
    C acc = 0;
    for (int64_t s = 0; s < slices; ++s) acc += partial[(c * slices + s) * taps + tap];
    gw[i] = narrow<T>(acc);
  }
};

// Whether every element index of the problem (input and output sides) fits in 31 bits.
bool small_indices(const ConvGeometry& g) {
  const int64_t limit = int64_t{1} << 31;
  return g.N * g.C * g.H * g.W < limit && g.N * g.C * g.OH * g.OW < limit;
}

// fn.template operator()<I>() with the index type the geometry allows.
template <typename Fn>
void with_index_type(const ConvGeometry& g, Fn&& fn) {
  if (small_indices(g)) fn.template operator()<uint32_t>();
  else fn.template operator()<int64_t>();
}

template <typename F>
void launch(int64_t n, const F& f) {
  launch_elementwise(range_layout(n), f);
}

}  // namespace

bool depthwise_applies(const ConvGeometry& g) {
  return g.G == g.C && g.Cg == 1 && g.Og == 1 && g.KH * g.KW <= kDepthwiseMaxTaps;
}

void depthwise_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g) {
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() {
    with_index_type(g, [&]<typename I>() {
      launch(y.numel(), Forward<T, compute_t<T>, I>{image_of<const T>(x), static_cast<const T*>(w.data_ptr()),
                                                    bias.defined() ? static_cast<const T*>(bias.data_ptr()) : nullptr,
                                                    bias.defined() ? bias.stride(0) : 0, static_cast<T*>(y.data_ptr()),
                                                    g});
    });
  });
}

void depthwise_backward_data(const Tensor& gy, const Tensor& w, const Tensor& gx, const ConvGeometry& g) {
  dispatch_floating(gx.dtype(), "conv2d_backward_data", [&]<typename T>() {
    with_index_type(g, [&]<typename I>() {
      launch(gx.numel(), BackwardData<T, compute_t<T>, I>{image_of<const T>(gy), static_cast<const T*>(w.data_ptr()),
                                                          static_cast<T*>(gx.data_ptr()), g});
    });
  });
}

void depthwise_backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw, const ConvGeometry& g) {
  dispatch_floating(gw.dtype(), "conv2d_backward_weight", [&]<typename T>() {
    using C = compute_t<T>;
    const int64_t outputs = g.N * g.P(), taps = g.KH * g.KW;
    // About four blocks per multiprocessor in all, each over at least 8 outputs per thread.
    const int64_t wanted = std::max<int64_t>(1, 4 * multiprocessors() / std::max<int64_t>(g.C, 1));
    const int64_t slices = std::clamp<int64_t>(outputs / (8 * kThreads), 1, std::min<int64_t>(wanted, 65535));
    const int64_t chunk = (outputs + slices - 1) / slices;
    const Tensor partial = empty({g.C * slices * taps}, {.dtype = dtype_of<C>::value, .device = gw.device()});
    check(g.C <= INT32_MAX, "conv2d_backward_weight: ", g.C, " channels are too many for one grid");
    with_index_type(g, [&]<typename I>() {
      weight_partials_kernel<T, C, I><<<dim3(static_cast<unsigned>(g.C), static_cast<unsigned>(slices)), kThreads, 0,
                                        stream()>>>(image_of<const T>(gy), image_of<const T>(x), g, chunk,
                                                    static_cast<C*>(partial.data_ptr()));
      CUDA_CHECK(cudaGetLastError());
    });
    launch(g.C * taps, SumSlices<T, C>{static_cast<const C*>(partial.data_ptr()), static_cast<T*>(gw.data_ptr()),
                                       slices, taps});
  });
}

}  // namespace ember::cuda
