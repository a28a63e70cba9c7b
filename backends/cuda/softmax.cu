// Row-wise softmax and log-softmax over contiguous [R, C] tensors, and their backward.
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/rows.cuh"

namespace ember {
namespace {

template <typename T>
__global__ void __launch_bounds__(cuda::kThreads) softmax_kernel(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  using C = compute_t<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    if (log) {
      const C lse = cuda::row_logsumexp(xr, cols);
      for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) yr[i] = cuda::narrow<T>(cuda::widen(xr[i]) - lse);
      continue;
    }
    const C m = cuda::row_max(xr, cols);
    C s = 0;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) s += std::exp(cuda::widen(xr[i]) - m);
    const C inv = C(1) / cuda::block_sum(s);
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) yr[i] = cuda::narrow<T>(std::exp(cuda::widen(xr[i]) - m) * inv);
  }
}

// gx = y * (gy - sum(gy * y)) for softmax, gy - exp(y) * sum(gy) for log-softmax.
template <typename T>
__global__ void __launch_bounds__(cuda::kThreads)
    softmax_backward_kernel(const T* y, const T* gy, T* gx, int64_t rows, int64_t cols, bool log) {
  using C = compute_t<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* yr = y + r * cols;
    const T* gr = gy + r * cols;
    T* out = gx + r * cols;
    C s = 0;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) s += cuda::widen(gr[i]) * (log ? C(1) : cuda::widen(yr[i]));
    s = cuda::block_sum(s);
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
      const C g = cuda::widen(gr[i]), v = cuda::widen(yr[i]);
      out[i] = cuda::narrow<T>(log ? g - std::exp(v) * s : v * (g - s));
    }
  }
}

}  // namespace

void CudaBackend::softmax(const Tensor& x, const Tensor& y, bool log) {
  check(x.is_contiguous() && x.dim() == 2, "softmax: expected a contiguous [R, C] input, got ", x.shape());
  check(y.is_contiguous() && y.shape() == x.shape(), "softmax: expected a contiguous ", x.shape(), " output, got ",
        y.shape());
  cuda::check_on_device("softmax", {&x, &y});
  const int64_t rows = x.size(0), cols = x.size(1);
  if (rows * cols == 0) return;
  dispatch_floating(x.dtype(), "softmax", [&]<typename T>() {
    softmax_kernel<T><<<cuda::row_blocks(rows), cuda::kThreads, 0, cuda::stream()>>>(
        static_cast<const T*>(x.data_ptr()), static_cast<T*>(y.data_ptr()), rows, cols, log);
    CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
  check(y.is_contiguous() && gy.is_contiguous() && y.dim() == 2 && gy.shape() == y.shape(),
        "softmax_backward: expected contiguous [R, C] operands, got ", y.shape(), " and ", gy.shape());
  check(gx.is_contiguous() && gx.shape() == y.shape(), "softmax_backward: expected a contiguous ", y.shape(),
        " gradient, got ", gx.shape());
  cuda::check_on_device("softmax_backward", {&y, &gy, &gx});
  const int64_t rows = y.size(0), cols = y.size(1);
  if (rows * cols == 0) return;
  dispatch_floating(y.dtype(), "softmax_backward", [&]<typename T>() {
    softmax_backward_kernel<T><<<cuda::row_blocks(rows), cuda::kThreads, 0, cuda::stream()>>>(
        static_cast<const T*>(y.data_ptr()), static_cast<const T*>(gy.data_ptr()), static_cast<T*>(gx.data_ptr()), rows,
        cols, log);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ember
