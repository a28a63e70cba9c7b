#pragma once
// Reductions across the threads of a one-dimensional block of kThreads threads, through shared
// memory in a fixed tree, so a result does not depend on timing.
#include "backends/cuda/elementwise.cuh"

namespace ember::cuda {

// Every thread gets merge() folded over all threads' values. V must be trivially constructible.
template <typename V, typename Merge>
__device__ V block_reduce(V v, Merge merge) {
  __shared__ V buffer[kThreads];
  buffer[threadIdx.x] = v;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width /= 2) {
    if (static_cast<int>(threadIdx.x) < width) buffer[threadIdx.x] = merge(buffer[threadIdx.x], buffer[threadIdx.x + width]);
    __syncthreads();
  }
  const V result = buffer[0];
  __syncthreads();  // the buffer is reused by the block's next reduction
  return result;
}

template <typename C>
__device__ C block_sum(C v) {
  return block_reduce(v, [](C a, C b) { return a + b; });
}

template <typename C>
__device__ C block_max(C v) {
  return block_reduce(v, [](C a, C b) { return a > b ? a : b; });
}

}  // namespace ember::cuda
