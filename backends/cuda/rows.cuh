#pragma once
// Row kernels over contiguous [R, C] tensors (softmax, layer norm, cross-entropy): one block
// per row, its kThreads threads striding along the row and combining through block_reduce.
#include <limits>

#include "backends/cuda/block_reduce.cuh"

namespace ember::cuda {

// Blocks for `rows` rows; each kernel loops over rows blockIdx.x, + gridDim.x, ...
inline unsigned row_blocks(int64_t rows) { return grid_for(rows, 1); }

template <typename T>
__device__ compute_t<T> row_max(const T* x, int64_t cols) {
  compute_t<T> m = -std::numeric_limits<compute_t<T>>::infinity();
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) m = m > widen(x[i]) ? m : widen(x[i]);
  return block_max(m);
}

template <typename T>
__device__ compute_t<T> row_sum(const T* x, int64_t cols) {
  compute_t<T> s = 0;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) s += widen(x[i]);
  return block_sum(s);
}

// log(sum(exp(x))), shifted by the row's max so that no term overflows.
template <typename T>
__device__ compute_t<T> row_logsumexp(const T* x, int64_t cols) {
  const compute_t<T> m = row_max(x, cols);
  compute_t<T> s = 0;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) s += std::exp(widen(x[i]) - m);
  return m + std::log(block_sum(s));
}

}  // namespace ember::cuda
