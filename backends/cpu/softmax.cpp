// Row-wise softmax and log-softmax over contiguous [R, C] tensors, and their backward.
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/vec_math.h"

namespace ember {

void CpuBackend::softmax(const Tensor& x, const Tensor& y, bool log) {
  check(x.is_contiguous() && x.dim() == 2, "softmax: expected a contiguous [R, C] input, got ", x.shape());
  const int64_t rows = x.size(0), cols = x.size(1);
  dispatch_floating(x.dtype(), "softmax", [&]<typename T>() {
    using C = compute_t<T>;
    const T* xs = static_cast<const T*>(x.data_ptr());
    T* ys = static_cast<T*>(y.data_ptr());
    cpu::for_each_row(rows, cols, [&](int64_t r) {
      const T* xr = xs + r * cols;
      T* yr = ys + r * cols;
      if (log) {
        const C lse = cpu::row_logsumexp(xr, cols);
#pragma omp simd
        for (int64_t i = 0; i < cols; ++i) yr[i] = static_cast<T>(static_cast<C>(xr[i]) - lse);
        return;
      }
      // One exp per element: store the shifted exponentials, then scale them (the row is in cache).
      const C m = cpu::row_max(xr, cols);
      C s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < cols; ++i) {
        const C e = cpu::vexp(static_cast<C>(xr[i]) - m);
        yr[i] = static_cast<T>(e);
        s += e;
      }
      const C inv = C(1) / s;
#pragma omp simd
      for (int64_t i = 0; i < cols; ++i) yr[i] = static_cast<T>(static_cast<C>(yr[i]) * inv);
    });
  });
}

void CpuBackend::softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
  check(y.is_contiguous() && gy.is_contiguous() && y.dim() == 2 && gy.shape() == y.shape(),
        "softmax_backward: expected contiguous [R, C] operands, got ", y.shape(), " and ", gy.shape());
  const int64_t rows = y.size(0), cols = y.size(1);
  dispatch_floating(y.dtype(), "softmax_backward", [&]<typename T>() {
    using C = compute_t<T>;
    const T* ys = static_cast<const T*>(y.data_ptr());
    const T* gys = static_cast<const T*>(gy.data_ptr());
    T* gxs = static_cast<T*>(gx.data_ptr());
    cpu::for_each_row(rows, cols, [&](int64_t r) {
      const T* yr = ys + r * cols;
      const T* gr = gys + r * cols;
      T* out = gxs + r * cols;
      if (log) {
        const C s = cpu::row_sum(gr, cols);
#pragma omp simd
        for (int64_t i = 0; i < cols; ++i)
          out[i] = static_cast<T>(static_cast<C>(gr[i]) - cpu::vexp(static_cast<C>(yr[i])) * s);
        return;
      }
      C dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t i = 0; i < cols; ++i) dot += static_cast<C>(gr[i]) * static_cast<C>(yr[i]);
#pragma omp simd
      for (int64_t i = 0; i < cols; ++i)
        out[i] = static_cast<T>(static_cast<C>(yr[i]) * (static_cast<C>(gr[i]) - dot));
    });
  });
}

}  // namespace ember
