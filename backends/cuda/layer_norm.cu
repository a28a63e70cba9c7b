// Fused layer norm over the last dim of contiguous [R, C] tensors, forward and backward. The
// row statistics come from block reductions; the weight and bias gradients sum over rows in a
// column kernel (32 columns by 8 row groups per block), so no thread writes another's result.
#include <algorithm>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/rows.cuh"
#include "backends/host_checks.h"
#include "tensor/creation.h"

namespace ember {
namespace {

// A [C] parameter (any stride), or `fallback` everywhere when absent: weight 1, bias 0.
template <typename T>
struct Param {
  const T* data;
  int64_t stride;
  __device__ compute_t<T> at(int64_t i, compute_t<T> fallback) const { return data ? cuda::widen(data[i * stride]) : fallback; }
};

template <typename T>
Param<T> param_of(const Tensor& p) {
  if (!p.defined()) return {nullptr, 0};
  return {static_cast<const T*>(p.data_ptr()), p.stride(0)};
}

template <typename T>
__global__ void __launch_bounds__(cuda::kThreads) layer_norm_kernel(const T* x, Param<T> weight, Param<T> bias, double eps,
                                                                    T* y, T* mean, T* rstd, int64_t rows, int64_t cols) {
  using C = compute_t<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    // Two passes over the row: the variance of centred values does not cancel.
    const C mu = cuda::row_sum(xr, cols) / static_cast<C>(cols);
    C var = 0;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) var += (cuda::widen(xr[i]) - mu) * (cuda::widen(xr[i]) - mu);
    const C rs = C(1) / std::sqrt(cuda::block_sum(var) / static_cast<C>(cols) + static_cast<C>(eps));
    if (threadIdx.x == 0) {
      mean[r] = cuda::narrow<T>(mu);
      rstd[r] = cuda::narrow<T>(rs);
    }
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x)
      yr[i] = cuda::narrow<T>((cuda::widen(xr[i]) - mu) * rs * weight.at(i, C(1)) + bias.at(i, C(0)));
  }
}

// gx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gy * w.
template <typename T>
__global__ void __launch_bounds__(cuda::kThreads)
    layer_norm_backward_kernel(const T* gy, const T* x, Param<T> weight, const T* mean, const T* rstd, T* gx,
                               int64_t rows, int64_t cols) {
  using C = compute_t<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    const T* gr = gy + r * cols;
    T* out = gx + r * cols;
    const C mu = cuda::widen(mean[r]), rs = cuda::widen(rstd[r]);
    C sum_g = 0, sum_gx = 0;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
      const C g = cuda::widen(gr[i]) * weight.at(i, C(1));
      sum_g += g;
      sum_gx += g * (cuda::widen(xr[i]) - mu) * rs;
    }
    const C a = cuda::block_sum(sum_g) / static_cast<C>(cols), b = cuda::block_sum(sum_gx) / static_cast<C>(cols);
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
      const C xhat = (cuda::widen(xr[i]) - mu) * rs;
      out[i] = cuda::narrow<T>(rs * (cuda::widen(gr[i]) * weight.at(i, C(1)) - a - xhat * b));
    }
  }
}

constexpr int kColumns = 32, kRowGroups = 8;

// gw[c] = sum_r gy * xhat and gb[c] = sum_r gy; either may be null. blockIdx.y picks a slice
// of `slice` rows: with few columns (768 against 8192 rows) the rows are split across blocks so
// the grid fills the GPU, each slice writes its sums to partial_gw / partial_gb [slices, cols],
// and layer_norm_params_merge adds them up in slice order.
template <typename T>
__global__ void __launch_bounds__(kColumns * kRowGroups)
    layer_norm_params_kernel(const T* gy, const T* x, const T* mean, const T* rstd, int64_t rows, int64_t cols,
                             int64_t slice, compute_t<T>* partial_gw, compute_t<T>* partial_gb, T* gw, T* gb) {
  using C = compute_t<T>;
  __shared__ C partial_w[kRowGroups][kColumns + 1], partial_b[kRowGroups][kColumns + 1];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kColumns + threadIdx.x;
  const int64_t begin = static_cast<int64_t>(blockIdx.y) * slice, end = begin + slice < rows ? begin + slice : rows;
  C w = 0, b = 0;
  if (c < cols) {
    for (int64_t r = begin + threadIdx.y; r < end; r += kRowGroups) {
      const C g = cuda::widen(gy[r * cols + c]);
      w += g * (cuda::widen(x[r * cols + c]) - cuda::widen(mean[r])) * cuda::widen(rstd[r]);
      b += g;
    }
  }
  partial_w[threadIdx.y][threadIdx.x] = w;
  partial_b[threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  if (threadIdx.y != 0 || c >= cols) return;
  for (int g = 1; g < kRowGroups; ++g) {
    w += partial_w[g][threadIdx.x];
    b += partial_b[g][threadIdx.x];
  }
  if (partial_gw) {
    partial_gw[blockIdx.y * cols + c] = w;
    partial_gb[blockIdx.y * cols + c] = b;
    return;
  }
  if (gw) gw[c] = cuda::narrow<T>(w);
  if (gb) gb[c] = cuda::narrow<T>(b);
}

template <typename T>
__global__ void layer_norm_params_merge(const compute_t<T>* partial_gw, const compute_t<T>* partial_gb,
                                        int64_t slices, int64_t cols, T* gw, T* gb) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  compute_t<T> w = 0, b = 0;
  for (int64_t s = 0; s < slices; ++s) w += partial_gw[s * cols + c], b += partial_gb[s * cols + c];
  if (gw) gw[c] = cuda::narrow<T>(w);
  if (gb) gb[c] = cuda::narrow<T>(b);
}

template <typename T>
T* pointer_or_null(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.data_ptr()) : nullptr;
}

}  // namespace

void CudaBackend::layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                             const Tensor& mean, const Tensor& rstd) {
  const auto rc = host_checks::check_layer_norm(x, weight, bias, y, mean, rstd);
  const int64_t rows = rc.rows, cols = rc.cols;
  cuda::check_on_device("layer_norm", {&x, &weight, &bias, &y, &mean, &rstd});
  if (rows * cols == 0) return;
  dispatch_floating(x.dtype(), "layer_norm", [&]<typename T>() {
    layer_norm_kernel<T><<<cuda::row_blocks(rows), cuda::kThreads, 0, cuda::stream()>>>(
        static_cast<const T*>(x.data_ptr()), param_of<T>(weight), param_of<T>(bias), eps, static_cast<T*>(y.data_ptr()),
        static_cast<T*>(mean.data_ptr()), static_cast<T*>(rstd.data_ptr()), rows, cols);
    CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                      const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  const auto rc = host_checks::check_layer_norm_backward(gy, x, weight, mean, rstd, gx, gw, gb);
  const int64_t rows = rc.rows, cols = rc.cols;
  cuda::check_on_device("layer_norm_backward", {&gy, &x, &weight, &mean, &rstd, &gx, &gw, &gb});
  dispatch_floating(x.dtype(), "layer_norm_backward", [&]<typename T>() {
    const T* g = static_cast<const T*>(gy.data_ptr());
    const T* xs = static_cast<const T*>(x.data_ptr());
    const T* mu = static_cast<const T*>(mean.data_ptr());
    const T* rs = static_cast<const T*>(rstd.data_ptr());
    if (rows > 0 && cols > 0) {
      layer_norm_backward_kernel<T><<<cuda::row_blocks(rows), cuda::kThreads, 0, cuda::stream()>>>(
          g, xs, param_of<T>(weight), mu, rs, static_cast<T*>(gx.data_ptr()), rows, cols);
      CUDA_CHECK_LAUNCH();
    }
    if ((gw.defined() || gb.defined()) && cols > 0) {
      using C = compute_t<T>;
      const unsigned blocks = static_cast<unsigned>((cols + kColumns - 1) / kColumns);
      // Slices of at least 256 rows, enough for ~4 blocks per multiprocessor.
      const int64_t slices = std::min<int64_t>(std::max<int64_t>(1, 4 * cuda::multiprocessors() / blocks),
                                               std::max<int64_t>(1, rows / 256));
      const int64_t slice = (rows + slices - 1) / slices;
      Tensor partials;
      C *partial_gw = nullptr, *partial_gb = nullptr;
      if (slices > 1) {
        partials = empty({2 * slices * cols}, {.dtype = dtype_of<C>::value, .device = x.device()});
        partial_gw = static_cast<C*>(partials.data_ptr());
        partial_gb = partial_gw + slices * cols;
      }
      layer_norm_params_kernel<T><<<dim3(blocks, static_cast<unsigned>(slices)), dim3(kColumns, kRowGroups), 0,
                                    cuda::stream()>>>(g, xs, mu, rs, rows, cols, slice, partial_gw, partial_gb,
                                                      pointer_or_null<T>(gw), pointer_or_null<T>(gb));
      CUDA_CHECK_LAUNCH();
      if (slices > 1) {
        layer_norm_params_merge<T><<<cuda::grid_for(cols, 256), 256, 0, cuda::stream()>>>(
            partial_gw, partial_gb, slices, cols, pointer_or_null<T>(gw), pointer_or_null<T>(gb));
        CUDA_CHECK_LAUNCH();
      }
    }
  });
}

}  // namespace ember
