#pragma once
// The shared engine of the elementwise kernels: a grid-stride loop over the elements of a
// Layout, handing the functor each operand's element offset. Every launch is on the backend's
// stream and checked.
//
// Three walks, chosen per launch; each computes every element exactly as the others would:
// - contiguous operands (the layout collapsed to one dim of unit strides): offset = index, no
//   division; a functor that offers vec4 (below) and whose pointers allow it moves 4 elements
//   per thread with vector loads and stores;
// - strided operands whose indices fit in 32 bits: the dims are peeled with FastDivisor;
// - anything else: 64-bit division per dim.
#include <concepts>
#include <cstdint>
#include <limits>

#include "backends/cuda/check.h"
#include "backends/cuda/context.h"
#include "backends/cuda/dtype.cuh"
#include "backends/cuda/layout.h"

namespace ember::cuda {

constexpr int kThreads = 256;

// Four elements of T as one aligned access (16 bytes for f32, 8 for bf16, two 16-byte
// accesses for f64 / i64).
template <typename T>
struct alignas(4 * sizeof(T)) Pack4 {
  T v[4];
};

template <typename T>
__device__ __forceinline__ Pack4<T> load4(const T* p) {
  return *reinterpret_cast<const Pack4<T>*>(p);
}

template <typename T>
__device__ __forceinline__ void store4(T* p, const Pack4<T>& x) {
  *reinterpret_cast<Pack4<T>*>(p) = x;
}

// Whether every pointer may be read or written as Pack4 of its type.
template <typename... T>
bool aligned4(const T*... p) {
  return ((reinterpret_cast<uintptr_t>(p) % alignof(Pack4<T>) == 0) && ...);
}

// A functor may also offer, for contiguous operands, `bool aligned4() const` (host: its
// pointers allow Pack4 accesses) and `void vec4(int64_t i) const` (device: elements i .. i + 3,
// with i a multiple of 4), computing each element as operator() does.
template <typename F>
concept Vectorized = requires(const F& f) {
  { f.aligned4() } -> std::convertible_to<bool>;
};

template <int N, typename F>
__device__ __forceinline__ void apply_at(const F& f, int64_t i) {
  int64_t off[N];
  for (int k = 0; k < N; ++k) off[k] = i;
  f(off);
}

// Offsets of element i (row-major over the layout's shape) in each operand.
template <int N>
__device__ __forceinline__ void element_offsets(const Layout<N>& l, int64_t i, int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = l.rank - 1; d > 0; --d) {
    const int64_t idx = i % l.shape[d];
    i /= l.shape[d];
    for (int k = 0; k < N; ++k) off[k] += idx * l.strides[k][d];
  }
  for (int k = 0; k < N; ++k) off[k] += i * l.strides[k][0];
}

// The same in 32-bit arithmetic, for layouts with index32 set.
template <int N>
__device__ __forceinline__ void element_offsets(const Layout<N>& l, uint32_t i, int64_t (&off)[N]) {
  int32_t o[N];
#pragma unroll
  for (int k = 0; k < N; ++k) o[k] = 0;
#pragma unroll
  for (int d = kMaxDims - 1; d > 0; --d) {
    if (d < l.rank) {
      const uint32_t q = l.divisors[d].divide(i);
      const int32_t idx = static_cast<int32_t>(i - q * l.divisors[d].divisor);
#pragma unroll
      for (int k = 0; k < N; ++k) o[k] += idx * static_cast<int32_t>(l.strides[k][d]);
      i = q;
    }
  }
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = o[k] + static_cast<int32_t>(i) * static_cast<int32_t>(l.strides[k][0]);
}

template <typename Index, int N, typename F>
__global__ void __launch_bounds__(kThreads) elementwise_kernel(Layout<N> layout, F f) {
  const Index n = static_cast<Index>(layout.numel), step = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[N];
    element_offsets(layout, i, off);
    f(off);
  }
}

template <typename Index, int N, typename F>
__global__ void __launch_bounds__(kThreads) contiguous_kernel(Index n, F f) {
  const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    apply_at<N>(f, static_cast<int64_t>(i));
}

// Groups of 4 through f.vec4, then the last n % 4 elements one by one.
template <typename Index, int N, typename F>
__global__ void __launch_bounds__(kThreads) vec4_kernel(Index n, F f) {
  const Index groups = n / 4, step = static_cast<Index>(gridDim.x) * blockDim.x;
  const Index first = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (Index g = first; g < groups; g += step) f.vec4(static_cast<int64_t>(g) * 4);
  if (first < n - groups * 4) apply_at<N>(f, static_cast<int64_t>(groups * 4 + first));
}

// f(const int64_t (&offsets)[N]) for every element, on the device.
template <int N, typename F>
void launch_elementwise(const Layout<N>& layout, F f) {
  const int64_t n = layout.numel;
  if (n == 0) return;
  // Indices in 32 bits where n allows; i + step cannot overflow then (both are below 2^31).
  const bool small = n <= std::numeric_limits<int32_t>::max();
  if constexpr (Vectorized<F>) {
    if (layout.contiguous() && n >= 4 && f.aligned4()) {
      const unsigned grid = grid_for((n + 3) / 4, kThreads);
      if (small) vec4_kernel<uint32_t, N><<<grid, kThreads, 0, stream()>>>(static_cast<uint32_t>(n), f);
      else vec4_kernel<int64_t, N><<<grid, kThreads, 0, stream()>>>(n, f);
      CUDA_CHECK_LAUNCH();
      return;
    }
  }
  if (layout.contiguous()) {
    if (small) {
      contiguous_kernel<uint32_t, N><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(static_cast<uint32_t>(n), f);
    } else {
      contiguous_kernel<int64_t, N><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(n, f);
    }
  } else if (layout.index32) {
    elementwise_kernel<uint32_t, N><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(layout, f);
  } else {
    elementwise_kernel<int64_t, N><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(layout, f);
  }
  CUDA_CHECK_LAUNCH();
}

// A plain range [0, n) as a one-operand layout: offsets[0] is the index itself.
inline Layout<1> range_layout(int64_t n) {
  Layout<1> l;
  l.numel = n;
  l.shape[0] = n;
  l.strides[0][0] = 1;
  return l;
}

}  // namespace ember::cuda
