// Fused layer norm over the last dim of contiguous [R, C] tensors, forward and backward.
#include <omp.h>

#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/vec_math.h"
#include "backends/host_checks.h"

namespace ember {
namespace {

// A [C] parameter's values in the compute type (any strides), or `fallback` everywhere when
// it is undefined: an absent weight is 1, an absent bias 0.
template <typename T>
std::vector<compute_t<T>> param_values(const Tensor& p, int64_t cols, compute_t<T> fallback) {
  std::vector<compute_t<T>> out(static_cast<size_t>(cols), fallback);
  if (!p.defined()) return out;
  const T* d = static_cast<const T*>(p.data_ptr());
  for (int64_t i = 0; i < cols; ++i) out[static_cast<size_t>(i)] = static_cast<compute_t<T>>(d[i * p.stride(0)]);
  return out;
}

}  // namespace

void CpuBackend::layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                            const Tensor& mean, const Tensor& rstd) {
  const auto rc = host_checks::check_layer_norm(x, weight, bias, y, mean, rstd);
  const int64_t rows = rc.rows, cols = rc.cols;
  dispatch_floating(x.dtype(), "layer_norm", [&]<typename T>() {
    using C = compute_t<T>;
    const std::vector<C> w = param_values<T>(weight, cols, C(1)), b = param_values<T>(bias, cols, C(0));
    const T* xs = static_cast<const T*>(x.data_ptr());
    T* ys = static_cast<T*>(y.data_ptr());
    T* means = static_cast<T*>(mean.data_ptr());
    T* rstds = static_cast<T*>(rstd.data_ptr());
    cpu::for_each_row(rows, cols, [&](int64_t r) {
      const T* xr = xs + r * cols;
      T* yr = ys + r * cols;
      // Two passes over the cached row: the variance of centred values does not cancel.
      const C mu = cpu::row_sum(xr, cols) / static_cast<C>(cols);
      C var = 0;
#pragma omp simd reduction(+ : var)
      for (int64_t i = 0; i < cols; ++i) var += (static_cast<C>(xr[i]) - mu) * (static_cast<C>(xr[i]) - mu);
      const C rs = C(1) / std::sqrt(var / static_cast<C>(cols) + static_cast<C>(eps));
      means[r] = static_cast<T>(mu);
      rstds[r] = static_cast<T>(rs);
#pragma omp simd
      for (int64_t i = 0; i < cols; ++i)
        yr[i] = static_cast<T>((static_cast<C>(xr[i]) - mu) * rs * w[static_cast<size_t>(i)] + b[static_cast<size_t>(i)]);
    });
  });
}

void CpuBackend::layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                     const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  const auto rc = host_checks::check_layer_norm_backward(gy, x, weight, mean, rstd, gx, gw, gb);
  const int64_t rows = rc.rows, cols = rc.cols;
  dispatch_floating(x.dtype(), "layer_norm_backward", [&]<typename T>() {
    using C = compute_t<T>;
    const std::vector<C> w = param_values<T>(weight, cols, C(1));
    const T* xs = static_cast<const T*>(x.data_ptr());
    const T* gys = static_cast<const T*>(gy.data_ptr());
    const T* means = static_cast<const T*>(mean.data_ptr());
    const T* rstds = static_cast<const T*>(rstd.data_ptr());
    T* gxs = static_cast<T*>(gx.data_ptr());
    const bool params = gw.defined() || gb.defined();
    // gw and gb sum over rows: each thread accumulates its own [2, C] partial, summed after.
    const int threads = rows * cols >= cpu::kParallelGrain && rows > 1 ? omp_get_max_threads() : 1;
    std::vector<C> partial(params ? static_cast<size_t>(threads * 2 * cols) : 0, C(0));
#pragma omp parallel num_threads(threads)
    {
      C* pw = params ? partial.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * static_cast<size_t>(cols) : nullptr;
      C* pb = params ? pw + cols : nullptr;
#pragma omp for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        const T* xr = xs + r * cols;
        const T* gr = gys + r * cols;
        T* out = gxs + r * cols;
        const C mu = static_cast<C>(means[r]), rs = static_cast<C>(rstds[r]);
        // gx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gy * w.
        C sum_g = 0, sum_gx = 0;
#pragma omp simd reduction(+ : sum_g, sum_gx)
        for (int64_t i = 0; i < cols; ++i) {
          const C g = static_cast<C>(gr[i]) * w[static_cast<size_t>(i)];
          sum_g += g;
          sum_gx += g * (static_cast<C>(xr[i]) - mu) * rs;
        }
        const C a = sum_g / static_cast<C>(cols), b = sum_gx / static_cast<C>(cols);
#pragma omp simd
        for (int64_t i = 0; i < cols; ++i) {
          const C xhat = (static_cast<C>(xr[i]) - mu) * rs;
          out[i] = static_cast<T>(rs * (static_cast<C>(gr[i]) * w[static_cast<size_t>(i)] - a - xhat * b));
        }
        if (!params) continue;
#pragma omp simd
        for (int64_t i = 0; i < cols; ++i) {
          pw[i] += static_cast<C>(gr[i]) * (static_cast<C>(xr[i]) - mu) * rs;
          pb[i] += static_cast<C>(gr[i]);
        }
      }
    }
    auto write_sum = [&](const Tensor& dst, int64_t which) {
      if (!dst.defined()) return;
      T* d = static_cast<T*>(dst.data_ptr());
      for (int64_t i = 0; i < cols; ++i) {
        C s = 0;
        for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>((t * 2 + which) * cols + i)];
        d[i] = static_cast<T>(s);
      }
    };
    write_sum(gw, 0);
    write_sum(gb, 1);
  });
}

}  // namespace ember
