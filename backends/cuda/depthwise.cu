// Depthwise convolution (groups == in channels == out channels, so one filter per channel, such
// as the Hyena operator's short causal filter) computed directly, without conv.cu's im2col:
// with one input channel per group, each output reads only KH KW inputs, and a GEMM of one
// row per group would spend its time on the unfolded copy.
//   forward          y[n,c,oh,ow]  = sum_taps w[c,tap] x[n,c,ih,iw] (+ b[c])
//   backward data    gx[n,c,h,w]   = sum of gy w over the (tap, output) pairs that read (h, w)
//                                    (a gather: no atomics)
//   backward weight  gw[c,tap]     = sum_{n,oh,ow} gy x: blocks over (channels, slice of the
//                                    outputs) write partial sums, a second pass adds the slices
//                                    in a fixed order, so the result does not depend on timing.
// x and gy may have any strides (Hyena's input is a transposed view); results are contiguous.
// Sums run in the compute type (f32 for bf16) and are rounded once; every path sums an element's
// terms in the same order (bias, then taps in (kh, kw) order).
//
// Rows of at least 32 outputs over at least 16 channels go through tiles of 32 channels x 64
// positions of one (n, row): a block per tile, each thread one channel and 8 positions, so the
// channel's base, bias and weights are worked out once per 8 outputs instead of per output. The
// thread layout follows the operand read: where its channel stride is 1 (channels-last, as
// Hyena's transposed input and its gradient are) the lanes run along channels, so the reads
// coalesce, and the tile goes through shared memory to be written along positions; otherwise
// the lanes run along positions and write directly. The weight gradient of a channels-last x
// stages each 32 x 64 tile of gy in shared memory (read along gy's fast dim), then reads x along
// channels; its per-thread sums and the sum over the block's warps run in a fixed order. Smaller
// shapes take a thread per output (per input pixel for the backward data) and a block per
// (channel, slice) for the weight gradient.
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

// The tiled kernels give each thread kPerThread positions of one channel, kSpread apart.
constexpr int kTileChannels = 32, kTileWidth = 64, kPerThread = kTileChannels * kTileWidth / kThreads,
              kSpread = kTileWidth / kPerThread;

template <typename T, typename C, typename I>
struct Forward {
  Image<const T> x;
  const T* w;  // [C, KH, KW], contiguous
  const T* bias;
  int64_t bias_stride;
  T* y;  // contiguous
  ConvGeometry g;
  // acc[j] = output (n, c, oh, first + j kSpread), for positions past the row too (unread).
  template <int Count>
  __device__ void accumulate(int64_t n, int64_t c, int64_t oh, int64_t first, C (&acc)[Count]) const {
    const C b = bias ? widen(bias[c * bias_stride]) : C(0);
#pragma unroll
    for (int j = 0; j < Count; ++j) acc[j] = b;
    const T* wc = w + c * g.KH * g.KW;
    const T* xc = x.data + n * x.s[0] + c * x.s[1];
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t h = oh * g.sh + kh * g.dh - g.ph;
      if (h < 0 || h >= g.H) continue;
      const T* xr = xc + h * x.s[2];
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const C wv = widen(wc[kh * g.KW + kw]);
        const int64_t iw0 = first * g.sw + kw * g.dw - g.pw;
#pragma unroll
        for (int j = 0; j < Count; ++j) {
          const int64_t iw = iw0 + j * kSpread * g.sw;
          if (iw >= 0 && iw < g.W) acc[j] += wv * widen(xr[iw * x.s[3]]);
        }
      }
    }
  }
  __device__ void operator()(const int64_t (&off)[1]) const {
    const I i = static_cast<I>(off[0]), ow = i % static_cast<I>(g.OW), rest = i / static_cast<I>(g.OW);
    const I oh = rest % static_cast<I>(g.OH), nc = rest / static_cast<I>(g.OH);
    const I c = nc % static_cast<I>(g.C), n = nc / static_cast<I>(g.C);
    C acc[1];
    accumulate(n, c, oh, ow, acc);
    y[off[0]] = narrow<T>(acc[0]);
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
  // acc[j] = gradient of input (n, c, h, first + j kSpread), for positions past the row too.
  template <int Count>
  __device__ void accumulate(int64_t n, int64_t c, int64_t h, int64_t first, C (&acc)[Count]) const {
#pragma unroll
    for (int j = 0; j < Count; ++j) acc[j] = 0;
    const T* wc = w + c * g.KH * g.KW;
    const T* gyc = gy.data + n * gy.s[0] + c * gy.s[1];
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = h + g.ph - kh * g.dh;  // oh * sh
      if (ih < 0) break;                        // and below for every later tap
      I oh;
      if (!tap_output(ih, g.sh, g.OH, oh)) continue;
      const T* gr = gyc + static_cast<int64_t>(oh) * gy.s[2];
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const C wv = widen(wc[kh * g.KW + kw]);
        const int64_t iw0 = first + g.pw - kw * g.dw;  // ow * sw
#pragma unroll
        for (int j = 0; j < Count; ++j) {
          const int64_t iw = iw0 + j * kSpread;
          I ow;
          if (iw >= 0 && tap_output(iw, g.sw, g.OW, ow)) acc[j] += widen(gr[static_cast<int64_t>(ow) * gy.s[3]]) * wv;
        }
      }
    }
  }
  __device__ void operator()(const int64_t (&off)[1]) const {
    const I i = static_cast<I>(off[0]), w_ = i % static_cast<I>(g.W), rest = i / static_cast<I>(g.W);
    const I h = rest % static_cast<I>(g.H), nc = rest / static_cast<I>(g.H);
    const I c = nc % static_cast<I>(g.C), n = nc / static_cast<I>(g.C);
    C acc[1];
    accumulate(n, c, h, w_, acc);
    gx[off[0]] = narrow<T>(acc[0]);
  }
};

// A tile of `op`'s contiguous [N, C, rows, width] result: 32 channels x 64 positions of row
// (n, r). Blocks run width tiles fastest, then channel tiles, then (n, r). ChannelsFast: lanes
// along channels (the operand read has channel stride 1), the tile written through shared
// memory; else lanes along positions, 8 per channel, written directly.
template <typename T, typename C, bool ChannelsFast, typename Op>
__global__ void __launch_bounds__(kThreads)
    tile_kernel(Op op, T* out, uint32_t channels, uint32_t rows, uint32_t width, uint32_t channel_tiles,
                uint32_t width_tiles) {
  uint32_t b = blockIdx.x;
  const uint32_t wt = b % width_tiles;
  b /= width_tiles;
  const uint32_t ct = b % channel_tiles, nr = b / channel_tiles;
  const int64_t n = nr / rows, r = nr % rows;
  const int tid = static_cast<int>(threadIdx.x);
  const int tc = ChannelsFast ? tid % kTileChannels : tid / kSpread, first = ChannelsFast ? tid / kTileChannels : tid % kSpread;
  const int64_t c0 = static_cast<int64_t>(ct) * kTileChannels, w0 = static_cast<int64_t>(wt) * kTileWidth;
  const int64_t c = c0 + tc;
  C acc[kPerThread];
  if (c < channels) op.accumulate(n, c, r, w0 + first, acc);
  if constexpr (ChannelsFast) {
    __shared__ C tile[kTileChannels][kTileWidth + 1];  // + 1: the column writes hit distinct banks
    if (c < channels) {
#pragma unroll
      for (int j = 0; j < kPerThread; ++j) tile[tc][first + j * kSpread] = acc[j];
    }
    __syncthreads();
    for (int e = tid; e < kTileChannels * kTileWidth; e += kThreads) {
      const int ec = e / kTileWidth, ew = e % kTileWidth;
      const int64_t cc = c0 + ec, ww = w0 + ew;
      if (cc < channels && ww < width) out[((n * channels + cc) * rows + r) * width + ww] = narrow<T>(tile[ec][ew]);
    }
  } else {
    if (c < channels) {
      T* row = out + ((n * channels + c) * rows + r) * width;
#pragma unroll
      for (int j = 0; j < kPerThread; ++j) {
        const int64_t ww = w0 + first + j * kSpread;
        if (ww < width) row[ww] = narrow<T>(acc[j]);
      }
    }
  }
}

// Whether the tiled kernels take a [*, channels, *, width] result: rows long enough and channels
// enough to fill most of a tile, and a block per tile within the grid's limit.
bool tiles_fit(const ConvGeometry& g, int64_t rows, int64_t width) {
  const int64_t tiles = g.N * rows * ((g.C + kTileChannels - 1) / kTileChannels) * ((width + kTileWidth - 1) / kTileWidth);
  return g.C >= kTileChannels / 2 && width >= kTileWidth / 2 && tiles <= INT32_MAX;
}

// Whether the lanes of a tile should run along t's channels: its channel stride is 1.
bool channels_fast(const Tensor& t) { return t.size(1) > 1 && t.stride(1) == 1; }

template <typename T, typename C, typename Op>
void launch_tiles(const Op& op, T* out, const ConvGeometry& g, int64_t rows, int64_t width, bool by_channel) {
  const auto channel_tiles = static_cast<uint32_t>((g.C + kTileChannels - 1) / kTileChannels),
             width_tiles = static_cast<uint32_t>((width + kTileWidth - 1) / kTileWidth);
  const auto blocks = static_cast<uint32_t>(g.N * rows) * channel_tiles * width_tiles;
  const auto c = static_cast<uint32_t>(g.C), r = static_cast<uint32_t>(rows), w = static_cast<uint32_t>(width);
  if (by_channel) {
    tile_kernel<T, C, true><<<blocks, kThreads, 0, stream()>>>(op, out, c, r, w, channel_tiles, width_tiles);
  } else {
    tile_kernel<T, C, false><<<blocks, kThreads, 0, stream()>>>(op, out, c, r, w, channel_tiles, width_tiles);
  }
  CUDA_CHECK_LAUNCH();
}

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

// The same partial sums where x has channel stride 1: block (ct, s) covers channels [32 ct,
// 32 ct + 32) over tiles [s chunk, (s + 1) chunk) (tile u: 64 outputs of row u / width_tiles).
// Each tile of gy is staged in shared memory, read along gy's fast dim; then lanes run along
// channels, each thread over 8 positions of its channel, and x is read coalesced. Each thread's
// sums run over the tiles and positions in order, then the 8 warps' sums are added in order.
template <typename T, typename C, bool GyChannelsFast>
__global__ void __launch_bounds__(kThreads)
    weight_partials_tile_kernel(Image<const T> gy, Image<const T> x, ConvGeometry g, uint32_t width_tiles,
                                int64_t tiles, int64_t chunk, C* partial) {
  constexpr int kWarps = kThreads / kTileChannels;
  __shared__ C dy[kTileChannels][kTileWidth + 1];
  __shared__ C sums[kTapGroup][kWarps][kTileChannels];
  const int tid = static_cast<int>(threadIdx.x), tc = tid % kTileChannels, first = tid / kTileChannels;
  const int64_t c0 = static_cast<int64_t>(blockIdx.x) * kTileChannels, c = c0 + tc;
  const int64_t s = blockIdx.y, slices = gridDim.y, taps = g.KH * g.KW;
  const int64_t begin = s * chunk, end = std::min(begin + chunk, tiles);
  for (int64_t t0 = 0; t0 < taps; t0 += kTapGroup) {
    C acc[kTapGroup] = {};
    int64_t kh[kTapGroup], kw[kTapGroup];
#pragma unroll
    for (int j = 0; j < kTapGroup; ++j) {
      kh[j] = (t0 + j) / g.KW;
      kw[j] = (t0 + j) % g.KW;
    }
    for (int64_t u = begin; u < end; ++u) {
      const uint32_t nr = static_cast<uint32_t>(u) / width_tiles;  // tiles fit in 31 bits
      const int64_t w0 = static_cast<int64_t>(static_cast<uint32_t>(u) - nr * width_tiles) * kTileWidth;
      const int64_t n = nr / static_cast<uint32_t>(g.OH), oh = nr % static_cast<uint32_t>(g.OH);
      const T* gyr = gy.data + n * gy.s[0] + oh * gy.s[2];
      for (int e = tid; e < kTileChannels * kTileWidth; e += kThreads) {
        const int ec = GyChannelsFast ? e % kTileChannels : e / kTileWidth;
        const int ew = GyChannelsFast ? e / kTileChannels : e % kTileWidth;
        const int64_t cc = c0 + ec, ow = w0 + ew;
        dy[ec][ew] = cc < g.C && ow < g.OW ? widen(gyr[cc * gy.s[1] + ow * gy.s[3]]) : C(0);
      }
      __syncthreads();
      if (c < g.C) {
        const T* xn = x.data + n * x.s[0] + c * x.s[1];
#pragma unroll
        for (int j = 0; j < kTapGroup; ++j) {
          if (t0 + j >= taps) break;
          const int64_t h = oh * g.sh + kh[j] * g.dh - g.ph;
          if (h < 0 || h >= g.H) continue;
          const T* xr = xn + h * x.s[2];
#pragma unroll
          for (int i = 0; i < kPerThread; ++i) {
            const int64_t ow = w0 + first + i * kSpread, iw = ow * g.sw + kw[j] * g.dw - g.pw;
            if (ow < g.OW && iw >= 0 && iw < g.W) acc[j] += dy[tc][first + i * kSpread] * widen(xr[iw * x.s[3]]);
          }
        }
      }
      __syncthreads();  // dy is refilled for the next tile
    }
#pragma unroll
    for (int j = 0; j < kTapGroup; ++j) sums[j][first][tc] = acc[j];
    __syncthreads();
    if (tid < kTileChannels && c < g.C) {
      for (int j = 0; j < kTapGroup && t0 + j < taps; ++j) {
        C total = 0;
        for (int wp = 0; wp < kWarps; ++wp) total += sums[j][wp][tid];
        partial[(c * slices + s) * taps + t0 + j] = total;
      }
    }
    __syncthreads();  // sums is rewritten by the next group of taps
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
      const Forward<T, compute_t<T>, I> op{image_of<const T>(x), static_cast<const T*>(w.data_ptr()),
                                           bias.defined() ? static_cast<const T*>(bias.data_ptr()) : nullptr,
                                           bias.defined() ? bias.stride(0) : 0, static_cast<T*>(y.data_ptr()), g};
      if (tiles_fit(g, g.OH, g.OW)) launch_tiles<T, compute_t<T>>(op, op.y, g, g.OH, g.OW, channels_fast(x));
      else launch(y.numel(), op);
    });
  });
}

void depthwise_backward_data(const Tensor& gy, const Tensor& w, const Tensor& gx, const ConvGeometry& g) {
  dispatch_floating(gx.dtype(), "conv2d_backward_data", [&]<typename T>() {
    with_index_type(g, [&]<typename I>() {
      const BackwardData<T, compute_t<T>, I> op{image_of<const T>(gy), static_cast<const T*>(w.data_ptr()),
                                                static_cast<T*>(gx.data_ptr()), g};
      if (tiles_fit(g, g.H, g.W)) launch_tiles<T, compute_t<T>>(op, op.gx, g, g.H, g.W, channels_fast(gy));
      else launch(gx.numel(), op);
    });
  });
}

void depthwise_backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw, const ConvGeometry& g) {
  dispatch_floating(gw.dtype(), "conv2d_backward_weight", [&]<typename T>() {
    using C = compute_t<T>;
    const int64_t taps = g.KH * g.KW;
    check(g.C <= INT32_MAX, "conv2d_backward_weight: ", g.C, " channels are too many for one grid");
    const bool tiled = channels_fast(x) && tiles_fit(g, g.OH, g.OW);
    // Work items: tiles of 64 outputs, or single outputs; blocks along the channels: tiles of 32
    // channels, or single channels.
    const int64_t width_tiles = (g.OW + kTileWidth - 1) / kTileWidth;
    const int64_t items = tiled ? g.N * g.OH * width_tiles : g.N * g.P();
    const int64_t channel_blocks = tiled ? (g.C + kTileChannels - 1) / kTileChannels : g.C;
    // About four (tiled: eight) blocks per multiprocessor in all, each over at least 8 outputs
    // per thread (tiled: 4 tiles).
    const int64_t per_block = tiled ? 4 : 8 * kThreads;
    const int64_t wanted = std::max<int64_t>(1, (tiled ? 8 : 4) * multiprocessors() / channel_blocks);
    int64_t slices = std::clamp<int64_t>(items / per_block, 1, std::min<int64_t>(wanted, 65535));
    const int64_t chunk = (items + slices - 1) / slices;
    slices = (items + chunk - 1) / chunk;
    const Tensor partial = empty({g.C * slices * taps}, {.dtype = dtype_of<C>::value, .device = gw.device()});
    C* partial_ptr = static_cast<C*>(partial.data_ptr());
    const dim3 grid(static_cast<unsigned>(channel_blocks), static_cast<unsigned>(slices));
    if (tiled) {
      const auto wt = static_cast<uint32_t>(width_tiles);
      if (channels_fast(gy)) {
        weight_partials_tile_kernel<T, C, true><<<grid, kThreads, 0, stream()>>>(
            image_of<const T>(gy), image_of<const T>(x), g, wt, items, chunk, partial_ptr);
      } else {
        weight_partials_tile_kernel<T, C, false><<<grid, kThreads, 0, stream()>>>(
            image_of<const T>(gy), image_of<const T>(x), g, wt, items, chunk, partial_ptr);
      }
      CUDA_CHECK_LAUNCH();
    } else {
      with_index_type(g, [&]<typename I>() {
        weight_partials_kernel<T, C, I><<<grid, kThreads, 0, stream()>>>(image_of<const T>(gy), image_of<const T>(x),
                                                                         g, chunk, partial_ptr);
        CUDA_CHECK_LAUNCH();
      });
    }
    launch(g.C * taps, SumSlices<T, C>{partial_ptr, static_cast<T*>(gw.data_ptr()), slices, taps});
  });
}

}  // namespace ember::cuda
