// Fused cross-entropy over contiguous [N, C] logits: the loss and its gradient come straight
// from the logits and the row's logsumexp, without materialising the probabilities. bf16
// logits are computed in f32, with f32 loss and logsumexp.
#include <initializer_list>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/vec_math.h"

namespace ember {
namespace {

int64_t target_at(const Tensor& target, int64_t n) {
  return static_cast<const int64_t*>(target.data_ptr())[n * target.stride(0)];
}

// Throws before any thread starts, so that a bad target never indexes out of the row.
void check_targets(const Tensor& target, int64_t rows, int64_t cols, int64_t ignore_index) {
  for (int64_t n = 0; n < rows; ++n) {
    const int64_t t = target_at(target, n);
    if (t != ignore_index && (t < 0 || t >= cols))
      fail("cross_entropy: target ", t, " at row ", n, " is out of range for ", cols, " classes");
  }
}

// loss, lse and the loss gradient are in the compute type: f32 for bf16 logits.
void check_compute_dtype(const char* op, DType logits, std::initializer_list<const Tensor*> tensors) {
  const DType expected = compute_dtype(logits);
  for (const Tensor* t : tensors)
    check(t->dtype() == expected, op, ": expected ", expected, " loss, logsumexp and loss gradient for ", logits,
          " logits, got ", t->dtype());
}

void check_operands(const Tensor& logits, const Tensor& target) {
  check(logits.is_contiguous() && logits.dim() == 2, "cross_entropy: expected contiguous [N, C] logits, got ",
        logits.shape());
  check(target.dtype() == DType::I64 && target.dim() == 1 && target.size(0) == logits.size(0),
        "cross_entropy: expected i64 targets [", logits.size(0), "], got ", target.dtype(), " ", target.shape());
}

}  // namespace

void CpuBackend::cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index, double smoothing,
                               const Tensor& loss, const Tensor& lse) {
  check_operands(logits, target);
  const int64_t rows = logits.size(0), cols = logits.size(1);
  check_targets(target, rows, cols, ignore_index);
  check_compute_dtype("cross_entropy", logits.dtype(), {&loss, &lse});
  dispatch_floating(logits.dtype(), "cross_entropy", [&]<typename T>() {
    using C = compute_t<T>;
    const T* xs = static_cast<const T*>(logits.data_ptr());
    C* losses = static_cast<C*>(loss.data_ptr());
    C* lses = static_cast<C*>(lse.data_ptr());
    const C s = static_cast<C>(smoothing);
    cpu::for_each_row(rows, cols, [&](int64_t n) {
      const T* x = xs + n * cols;
      const C l = cpu::row_logsumexp(x, cols);
      lses[n] = l;
      const int64_t t = target_at(target, n);
      if (t == ignore_index) {
        losses[n] = C(0);
        return;
      }
      // -sum_c q_c log p_c with q = (1 - s) one-hot + s / C, and log p_c = x_c - lse.
      C value = l - (C(1) - s) * static_cast<C>(x[t]);
      if (s != C(0)) value -= s / static_cast<C>(cols) * cpu::row_sum(x, cols);
      losses[n] = value;
    });
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                        const Tensor& grad_loss, int64_t ignore_index, double smoothing,
                                        const Tensor& glogits) {
  check_operands(logits, target);
  const int64_t rows = logits.size(0), cols = logits.size(1);
  check_compute_dtype("cross_entropy_backward", logits.dtype(), {&lse, &grad_loss});
  check(glogits.dtype() == logits.dtype(), "cross_entropy_backward: gradient ", glogits.dtype(), " for ",
        logits.dtype(), " logits");
  dispatch_floating(logits.dtype(), "cross_entropy_backward", [&]<typename T>() {
    using C = compute_t<T>;
    const T* xs = static_cast<const T*>(logits.data_ptr());
    const C* lses = static_cast<const C*>(lse.data_ptr());
    const C* gls = static_cast<const C*>(grad_loss.data_ptr());
    const int64_t gl_stride = grad_loss.stride(0);
    T* gs = static_cast<T*>(glogits.data_ptr());
    const C uniform_part = static_cast<C>(smoothing) / static_cast<C>(cols);
    cpu::for_each_row(rows, cols, [&](int64_t n) {
      const T* x = xs + n * cols;
      T* g = gs + n * cols;
      const int64_t t = target_at(target, n);
      if (t == ignore_index) {
#pragma omp simd
        for (int64_t i = 0; i < cols; ++i) g[i] = T(0);
        return;
      }
      const C scale = static_cast<C>(gls[n * gl_stride]);
      const C l = static_cast<C>(lses[n]);
#pragma omp simd
      for (int64_t i = 0; i < cols; ++i) g[i] = static_cast<T>(scale * (cpu::vexp(static_cast<C>(x[i]) - l) - uniform_part));
      g[t] = static_cast<T>(scale * (cpu::vexp(static_cast<C>(x[t]) - l) - uniform_part - (C(1) - static_cast<C>(smoothing))));
    });
  });
}

}  // namespace ember
