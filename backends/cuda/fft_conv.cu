// The FFT long convolution (the Hyena operator's core) on the GPU, through cuFFT.
//
// Forward, y = causal_conv(u, k) + D u, in five steps over all B C rows at once:
//   1. pad: u's rows (any strides, converted to the compute type R: f32 for f32 and bf16, f64
//      for f64) into zero-padded rows of an FFT length n >= L + K - 1 (fft_fast_length), laid
//      out for cuFFT's in-place real transforms (fft_plan.h); k's C rows likewise;
//   2. one batched R2C (D2Z) over the B C signal rows, one over the C filter rows;
//   3. multiply: U[b,c,:] *= K[c,:] / n, a thread per (c, frequency) looping over the batch,
//      so the filter's coefficient is read once;
//   4. one batched C2R (Z2D), in place;
//   5. unpad: y[b,c,t] = result[t] + D[c] u[b,c,t] for t < L, converted back to u's dtype.
// With `keep` (autograd passes it when a backward will follow) the forward keeps U and K, writing
// the product to rows of its own, and the backward reads them instead of transforming u and k
// again: two R2C transforms fewer per backward, for two padded spectra held until then.
// Backward, from GY = R2C(pad(gy)), K = R2C(pad(k)), U = R2C(pad(u)) (each only when needed),
// one fused spectral pass per (c, frequency): GU[b] = GY[b] conj(K) / n in place over GY, and
// GK = sum_b GY[b] conj(U[b]) / n over K's buffer (the batch summed before the single inverse
// transform); then C2R of each and the same unpad (gu gets D gy added, gk keeps K taps).
// gd[c] = sum_{b,t} gy u comes from the gy pad kernel, which reads gy anyway and also reads u:
// a dot product in f64 per row segment, then a sum over the batch and the segments per channel
// in a fixed order (no atomics, so the result does not depend on timing).
//
// The pad and unpad kernels run a block per (row, segment of 1024 elements), each thread
// loading its 4 elements before storing them, so there are enough loads in flight to stream
// the rows at memory speed (a block per row, one element per thread at a time, could not).
// Scratch rows come from the backend's pool as tensors; cuFFT plans and their work areas from
// fft_plan.cpp. A filter stored transposed (channel stride 1, as Hyena's slice of its [L, C]
// filter is) is padded through a shared-memory tile so reads and writes both stay coalesced;
// tiles wholly in the padding only write zeros.
#include <algorithm>
#include <initializer_list>
#include <type_traits>
#include <utility>

#include "backends/channel_rows.h"
#include "backends/cuda/block_reduce.cuh"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/fft_plan.h"
#include "tensor/creation.h"

namespace ember {
namespace {

using cuda::kThreads;

using channel_rows::Rows;
using channel_rows::rows_of;

// D [C] (any stride), or none.
template <typename T>
struct Skip {
  const T* data = nullptr;
  int64_t stride = 0;
};

template <typename T>
Skip<T> skip_of(const Tensor& d) {
  if (!d.defined()) return {};
  return {static_cast<const T*>(d.data_ptr()), d.stride(0)};
}

template <typename R>
using complex_t = std::conditional_t<std::is_same_v<R, float>, float2, double2>;

template <typename V, typename R>
__device__ __forceinline__ V scaled(V v, R s) {
  return {v.x * s, v.y * s};
}

// a * b, and a * conj(b).
template <typename V>
__device__ __forceinline__ V multiply(V a, V b) {
  return {a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x};
}
template <typename V>
__device__ __forceinline__ V multiply_conj(V a, V b) {
  return {a.x * b.x + a.y * b.y, a.y * b.x - a.x * b.y};
}

// The row kernels: block (s, y) covers segment s (kSegment elements) of rows y, y + gridDim.y,
// ...; each thread loads its kPerThread elements (kThreads apart, so a warp's accesses stay
// coalesced) before it stores any, which keeps several loads in flight per thread where a block
// per row walked its row one element per thread at a time.
constexpr int kPerThread = 4;
constexpr int64_t kSegment = int64_t{kThreads} * kPerThread;

__host__ __device__ int64_t segments_of(int64_t extent) { return extent > kSegment ? (extent + kSegment - 1) / kSegment : 1; }

dim3 segment_grid(int64_t extent, int64_t rows) {
  return dim3(static_cast<unsigned>(segments_of(extent)), static_cast<unsigned>(std::clamp<int64_t>(rows, 1, 65535)));
}

// Row r = b C + c of dst (pitch reals apart) = src's row zero-padded to the pitch. With `dots`,
// dots[r S + s] = sum of src[t] other[t] (f64) over segment s < S = segments_of(length) of the
// row; with dst null only the dot products are computed.
template <typename T, typename R>
__global__ void __launch_bounds__(kThreads) pad_rows_kernel(Rows<const T> src, int64_t length, R* dst, int64_t pitch,
                                                            int64_t rows, int64_t channels, Rows<const T> other,
                                                            double* dots) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kSegment + threadIdx.x;
  const int64_t dot_segments = segments_of(length);
  const bool with_dot = dots && blockIdx.x < dot_segments;  // uniform across the block, as block_sum requires
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    const int64_t b = r / channels, c = r % channels;
    const T* s = src.row(b, c);
    R v[kPerThread];
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int64_t t = first + i * kThreads;
      v[i] = t < length ? static_cast<R>(cuda::widen(s[t * src.step])) : R(0);
    }
    if (dst) {
      R* out = dst + r * pitch;
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t t = first + i * kThreads;
        if (t < pitch) out[t] = v[i];
      }
    }
    if (with_dot) {
      const T* o = other.row(b, c);
      double dot = 0;
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t t = first + i * kThreads;
        if (t < length) dot += static_cast<double>(v[i]) * static_cast<double>(cuda::widen(o[t * other.step]));
      }
      dot = cuda::block_sum(dot);
      if (threadIdx.x == 0) dots[r * dot_segments + blockIdx.x] = dot;
    }
  }
}

constexpr int kTile = 32, kTileRows = 8;

// The same padding for a source whose channel stride is 1: a 32 x 32 (channel, time) tile is
// read along channels and written along time, through shared memory.
template <typename T, typename R>
__global__ void __launch_bounds__(kTile * kTileRows)
    pad_transposed_kernel(Rows<const T> src, int64_t length, R* dst, int64_t pitch, int64_t batch, int64_t channels) {
  __shared__ R tile[kTile][kTile + 1];
  const int64_t t0 = static_cast<int64_t>(blockIdx.x) * kTile, c0 = static_cast<int64_t>(blockIdx.y) * kTile;
  for (int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
    if (t0 >= length) {  // all padding (the block agrees, so it skips the barriers as one)
      for (int i = threadIdx.y; i < kTile; i += kTileRows) {
        const int64_t c = c0 + i, t = t0 + threadIdx.x;
        if (c < channels && t < pitch) dst[(b * channels + c) * pitch + t] = R(0);
      }
      continue;
    }
    for (int i = threadIdx.y; i < kTile; i += kTileRows) {
      const int64_t t = t0 + i, c = c0 + threadIdx.x;
      tile[i][threadIdx.x] = c < channels && t < length ? static_cast<R>(cuda::widen(src.row(b, c)[t * src.step])) : R(0);
    }
    __syncthreads();
    for (int i = threadIdx.y; i < kTile; i += kTileRows) {
      const int64_t c = c0 + i, t = t0 + threadIdx.x;
      if (c < channels && t < pitch) dst[(b * channels + c) * pitch + t] = tile[threadIdx.x][i];
    }
    __syncthreads();  // the tile is refilled for the next batch
  }
}

// signal[b * per_batch + j] *= filter[j] * scale for every batch b.
template <typename V, typename R>
__global__ void __launch_bounds__(kThreads)
    multiply_kernel(const V* signal, const V* filter, V* product, int64_t per_batch, int64_t batch, R scale) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < per_batch; j += step) {
    const V f = filter[j];
    for (int64_t b = 0; b < batch; ++b) product[b * per_batch + j] = scaled(multiply(signal[b * per_batch + j], f), scale);
  }
}

// The backward's spectra: with want_gu, grad[b] <- grad[b] conj(filter) scale; with want_gk,
// gk <- sum_b grad[b] conj(signal[b]) scale (gk may be filter's buffer: its value is read first).
template <typename V, typename R>
__global__ void __launch_bounds__(kThreads)
    backward_spectra_kernel(V* grad, const V* signal, const V* filter, V* gk, int64_t per_batch, int64_t batch,
                            R scale, bool want_gu, bool want_gk) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < per_batch; j += step) {
    const V f = want_gu ? filter[j] : V{0, 0};
    V sum{0, 0};
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t i = b * per_batch + j;
      const V g = grad[i];
      if (want_gk) {
        const V p = multiply_conj(g, signal[i]);
        sum.x += p.x;
        sum.y += p.y;
      }
      if (want_gu) grad[i] = scaled(multiply_conj(g, f), scale);
    }
    if (want_gk) gk[j] = scaled(sum, scale);
  }
}

// dst's row r = b C + c, t < count: src[r * pitch + t] (+ D[c] extra[b,c,t] when extra is given),
// in segments as pad_rows_kernel.
template <typename T, typename R>
__global__ void __launch_bounds__(kThreads) unpad_rows_kernel(const R* src, int64_t pitch, Rows<T> dst, int64_t count,
                                                              int64_t rows, int64_t channels, Rows<const T> extra,
                                                              Skip<T> skip) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kSegment + threadIdx.x;
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    const int64_t b = r / channels, c = r % channels;
    const R* in = src + r * pitch;
    T* out = dst.row(b, c);
    const T* x = extra.data ? extra.row(b, c) : nullptr;
    const R d = x ? static_cast<R>(cuda::widen(skip.data[c * skip.stride])) : R(0);
    R v[kPerThread];
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int64_t t = first + i * kThreads;
      v[i] = t < count ? in[t] : R(0);
      if (x && t < count) v[i] += d * static_cast<R>(cuda::widen(x[t * extra.step]));
    }
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int64_t t = first + i * kThreads;
      if (t < count) out[t * dst.step] = cuda::narrow<T>(v[i]);
    }
  }
}

// out[c] = sum_b sum_s dots[(b C + c) S + s], in that order.
template <typename T>
__global__ void __launch_bounds__(kThreads) sum_batches_kernel(const double* dots, T* out, int64_t stride,
                                                               int64_t batch, int64_t channels, int64_t segments) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < channels; c += step) {
    double s = 0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < segments; ++j) s += dots[(b * channels + c) * segments + j];
    out[c * stride] = cuda::narrow<T>(s);
  }
}

// Padded rows for `rows` transforms of length n, in the compute type R.
template <typename R>
Tensor scratch_rows(int64_t rows, int64_t n) {
  return empty({rows * cuda::fft_row_pitch(n)},
               {.dtype = std::is_same_v<R, double> ? DType::F64 : DType::F32, .device = Device::cuda()});
}

template <typename R>
R* real_ptr(const Tensor& t) {
  return static_cast<R*>(t.data_ptr());
}
template <typename R>
complex_t<R>* complex_ptr(const Tensor& t) {
  return static_cast<complex_t<R>*>(t.data_ptr());
}

// Pads src ([B,C,L] or [C,K]: `batch` x `channels` rows of `length`) into dst's rows of length
// n; with dots, also dots[r] = <src row r, other row r> (dst may then be undefined).
template <typename T>
void pad(const Tensor& src, int64_t batch, int64_t channels, int64_t length, const Tensor& dst, int64_t n,
         const Tensor& other = Tensor(), double* dots = nullptr) {
  using R = compute_t<T>;
  const Rows<const T> s = rows_of<const T>(src);
  const int64_t pitch = cuda::fft_row_pitch(n);
  R* out = dst.defined() ? real_ptr<R>(dst) : nullptr;
  const int64_t channel_tiles = (channels + kTile - 1) / kTile;
  if (out && !dots && s.step != 1 && s.channel_stride == 1 && channel_tiles <= 65535) {
    const dim3 grid(static_cast<unsigned>((pitch + kTile - 1) / kTile), static_cast<unsigned>(channel_tiles),
                    static_cast<unsigned>(std::min<int64_t>(batch, 65535)));
    pad_transposed_kernel<T, R><<<grid, dim3(kTile, kTileRows), 0, cuda::stream()>>>(s, length, out, pitch, batch,
                                                                                     channels);
  } else {
    pad_rows_kernel<T, R><<<segment_grid(out ? pitch : length, batch * channels), kThreads, 0, cuda::stream()>>>(
        s, length, out, pitch, batch * channels, channels, rows_of<const T>(other), dots);
  }
  CUDA_CHECK_LAUNCH();
}

// dst [B,C,count] or [C,count] = the first `count` reals of src's rows (+ D extra).
template <typename T>
void unpad(const Tensor& src, int64_t n, const Tensor& dst, int64_t batch, int64_t channels, int64_t count,
           const Tensor& extra, const Tensor& d) {
  using R = compute_t<T>;
  const bool with_skip = d.defined();
  unpad_rows_kernel<T, R><<<segment_grid(count, batch * channels), kThreads, 0, cuda::stream()>>>(
      real_ptr<R>(src), cuda::fft_row_pitch(n), rows_of<T>(dst), count, batch * channels, channels,
      with_skip ? rows_of<const T>(extra) : Rows<const T>{}, skip_of<T>(d));
  CUDA_CHECK_LAUNCH();
}

// Whether `kept` holds spectra of `rows` padded rows of length n in the compute type R.
template <typename R>
bool kept_rows(const Tensor& kept, int64_t rows, int64_t n) {
  return kept.defined() && kept.dtype() == (std::is_same_v<R, double> ? DType::F64 : DType::F32) &&
         kept.numel() == rows * cuda::fft_row_pitch(n) && kept.is_contiguous();
}

template <typename T>
void forward(const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& y, Backend::FftSpectra* keep) {
  using R = compute_t<T>;
  const int64_t batch = u.size(0), channels = u.size(1), length = u.size(2), taps = k.size(1);
  if (batch * channels == 0) return;
  const int64_t n = cuda::fft_fast_length(length + taps - 1), half = n / 2 + 1;
  const Tensor signal = scratch_rows<R>(batch * channels, n), filter = scratch_rows<R>(channels, n);
  pad<T>(u, batch, channels, length, signal, n);
  pad<T>(k, 1, channels, taps, filter, n);
  cuda::fft_forward(real_ptr<R>(signal), n, batch * channels);
  cuda::fft_forward(real_ptr<R>(filter), n, channels);
  // Kept spectra stay as they are: the product goes to its own rows.
  const Tensor product = keep ? scratch_rows<R>(batch * channels, n) : signal;
  multiply_kernel<complex_t<R>, R><<<cuda::grid_for(channels * half, kThreads), kThreads, 0, cuda::stream()>>>(
      complex_ptr<R>(signal), complex_ptr<R>(filter), complex_ptr<R>(product), channels * half, batch,
      R(1) / static_cast<R>(n));
  CUDA_CHECK_LAUNCH();
  cuda::fft_inverse(real_ptr<R>(product), n, batch * channels);
  unpad<T>(product, n, y, batch, channels, length, u, d);
  if (keep) *keep = {signal, filter};
}

template <typename T>
void backward(const Tensor& gy, const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& gu,
              const Tensor& gk, const Tensor& gd, const Backend::FftSpectra* kept) {
  using R = compute_t<T>;
  const int64_t batch = gy.size(0), channels = gy.size(1), length = gy.size(2), taps = k.size(1);
  if (channels == 0) return;
  if (batch == 0) {  // empty sums
    if (gk.defined()) cuda::backend().fill(gk, 0);
    if (gd.defined()) cuda::backend().fill(gd, 0);
    return;
  }
  const int64_t dot_segments = segments_of(length);
  const Tensor dots = gd.defined()
                          ? empty({batch * channels * dot_segments}, {.dtype = DType::F64, .device = Device::cuda()})
                          : Tensor();
  double* dot_ptr = gd.defined() ? static_cast<double*>(dots.data_ptr()) : nullptr;
  const bool want_gu = gu.defined(), want_gk = gk.defined();
  if (want_gu || want_gk) {
    const int64_t n = cuda::fft_fast_length(length + taps - 1), half = n / 2 + 1;
    const Tensor grad = scratch_rows<R>(batch * channels, n);
    pad<T>(gy, batch, channels, length, grad, n, u, dot_ptr);
    cuda::fft_forward(real_ptr<R>(grad), n, batch * channels);
    // U and K as the forward kept them (read only), else transformed again.
    const bool have_u = kept && kept_rows<R>(kept->u, batch * channels, n);
    const bool have_k = kept && kept_rows<R>(kept->k, channels, n);
    Tensor signal, filter;
    if (want_gk) {
      if (have_u) {
        signal = kept->u;
      } else {
        signal = scratch_rows<R>(batch * channels, n);
        pad<T>(u, batch, channels, length, signal, n);
        cuda::fft_forward(real_ptr<R>(signal), n, batch * channels);
      }
    }
    if (want_gu) {
      if (have_k) {
        filter = kept->k;
      } else {
        filter = scratch_rows<R>(channels, n);
        pad<T>(k, 1, channels, taps, filter, n);
        cuda::fft_forward(real_ptr<R>(filter), n, channels);
      }
    }
    // GK's rows: over the filter's transform where that is this call's own scratch.
    const Tensor gk_rows = !want_gk ? Tensor() : filter.defined() && !have_k ? filter : scratch_rows<R>(channels, n);
    backward_spectra_kernel<complex_t<R>, R><<<cuda::grid_for(channels * half, kThreads), kThreads, 0, cuda::stream()>>>(
        complex_ptr<R>(grad), want_gk ? complex_ptr<R>(signal) : nullptr,
        want_gu ? complex_ptr<R>(filter) : nullptr, want_gk ? complex_ptr<R>(gk_rows) : nullptr, channels * half,
        batch, R(1) / static_cast<R>(n), want_gu, want_gk);
    CUDA_CHECK_LAUNCH();
    if (want_gu) {
      cuda::fft_inverse(real_ptr<R>(grad), n, batch * channels);
      unpad<T>(grad, n, gu, batch, channels, length, gy, d);
    }
    if (want_gk) {
      cuda::fft_inverse(real_ptr<R>(gk_rows), n, channels);
      unpad<T>(gk_rows, n, gk, 1, channels, taps, Tensor(), Tensor());
    }
  } else if (gd.defined()) {
    pad<T>(gy, batch, channels, length, Tensor(), length, u, dot_ptr);
  }
  if (gd.defined()) {
    sum_batches_kernel<T><<<cuda::grid_for(channels, kThreads), kThreads, 0, cuda::stream()>>>(
        dot_ptr, static_cast<T*>(gd.data_ptr()), gd.stride(0), batch, channels, dot_segments);
    CUDA_CHECK_LAUNCH();
  }
}

// The kernels index raw pointers, so a caller's mistake would be a memory error: refuse it.
void check_operands(const char* op, const Tensor& u_like, const Tensor& k, const Tensor& d,
                    std::initializer_list<std::pair<const Tensor*, Shape>> outputs) {
  check(u_like.dim() == 3 && k.dim() == 2 && k.size(0) == u_like.size(1) && k.size(1) >= 1 &&
            k.size(1) <= u_like.size(2),
        op, ": expected [B, C, L] and filter [C, K] with 1 <= K <= L, got ", u_like.shape(), " and ", k.shape());
  check(k.dtype() == u_like.dtype(), op, ": filter dtype ", k.dtype(), " differs from ", u_like.dtype());
  if (d.defined())
    check(d.dim() == 1 && d.size(0) == k.size(0) && d.dtype() == u_like.dtype(), op, ": skip term ", d.dtype(), " ",
          d.shape(), " must be ", u_like.dtype(), " [", k.size(0), "]");
  for (const auto& [t, shape] : outputs) {
    if (!t->defined()) continue;
    check(t->shape() == shape && t->dtype() == u_like.dtype(), op, ": output ", t->dtype(), " ", t->shape(),
          " must be ", u_like.dtype(), " ", shape);
  }
}

}  // namespace

void CudaBackend::fft_conv(const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& y, FftSpectra* keep) {
  check_operands("fft_conv", u, k, d, {{&y, u.shape()}});
  cuda::check_on_device("fft_conv", {&u, &k, &d, &y});
  dispatch_floating(u.dtype(), "fft_conv", [&]<typename T>() { forward<T>(u, k, d, y, keep); });
}

void CudaBackend::fft_conv_backward(const Tensor& gy, const Tensor& u, const Tensor& k, const Tensor& d,
                                    const Tensor& gu, const Tensor& gk, const Tensor& gd, const FftSpectra* kept) {
  check_operands("fft_conv_backward", gy, k, d, {{&gu, gy.shape()}, {&gk, k.shape()}});
  if (gd.defined())
    check(gd.dim() == 1 && gd.size(0) == k.size(0) && gd.dtype() == gy.dtype(), "fft_conv_backward: gd ", gd.dtype(),
          " ", gd.shape(), " must be ", gy.dtype(), " [", k.size(0), "]");
  // u is read for gk and gd only; D for gu only.
  if (gk.defined() || gd.defined())
    check(u.defined() && u.shape() == gy.shape() && u.dtype() == gy.dtype(), "fft_conv_backward: input must be ",
          gy.dtype(), " ", gy.shape(), " to compute gk or gd");
  cuda::check_on_device("fft_conv_backward", {&gy, &u, &k, &d, &gu, &gk, &gd});
  dispatch_floating(gy.dtype(), "fft_conv_backward",
                    [&]<typename T>() { backward<T>(gy, u, k, d, gu, gk, gd, kept); });
}

}  // namespace ember
