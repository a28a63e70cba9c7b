#pragma once
// The shared engine of the elementwise kernels: a grid-stride loop over the elements of a
// Layout, handing the functor each operand's element offset. Every launch is on the backend's
// stream and checked.
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"
#include "backends/cuda/dtype.cuh"
#include "backends/cuda/layout.h"

namespace ember::cuda {

constexpr int kThreads = 256;

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

template <int N, typename F>
__global__ void __launch_bounds__(kThreads) elementwise_kernel(Layout<N> layout, F f) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < layout.numel; i += step) {
    int64_t off[N];
    element_offsets(layout, i, off);
    f(off);
  }
}

// f(const int64_t (&offsets)[N]) for every element, on the device.
template <int N, typename F>
void launch_elementwise(const Layout<N>& layout, F f) {
  if (layout.numel == 0) return;
  elementwise_kernel<N><<<grid_for(layout.numel, kThreads), kThreads, 0, stream()>>>(layout, f);
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
