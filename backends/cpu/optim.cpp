// Fused optimizer updates: one OpenMP-parallel, vectorised pass per parameter, so a step reads
// and writes each element once instead of once per elementwise op. Arithmetic runs in
// compute_t<T> (float for bf16); the scalars are prepared in double.
#include <cmath>
#include <initializer_list>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided.h"

namespace ember {
namespace {

// The kernels index raw pointers, so a caller's mistake would be a memory error: refuse it.
void check_operands(const char* op, const Tensor& param, std::initializer_list<const Tensor*> others) {
  check(param.is_contiguous(), op, ": parameter of shape ", param.shape(), " is not contiguous");
  for (const Tensor* t : others) {
    if (!t->defined()) continue;
    check(t->is_contiguous() && t->shape() == param.shape() && t->dtype() == param.dtype(), op,
          ": operand ", t->dtype(), " ", t->shape(), " does not match the contiguous parameter ", param.dtype(), " ",
          param.shape());
  }
}

// fn(i) for every i in [0, n): threads above the parallel grain, simd within a thread.
template <typename Fn>
void parallel_simd(int64_t n, Fn fn) {
  if (n < cpu::kParallelGrain) {  // no OpenMP region at all for small tensors (as cpu::parallel_for)
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace

void CpuBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& h) {
  check_operands("sgd_step", param, {&grad, &momentum_buffer});
  check(h.momentum == 0 || momentum_buffer.defined(), "sgd_step: momentum ", h.momentum, " needs a momentum buffer");
  dispatch_floating(param.dtype(), "sgd_step", [&]<typename T>() {
    using C = compute_t<T>;
    const C lr = static_cast<C>(h.lr), momentum = static_cast<C>(h.momentum);
    const C keep = static_cast<C>(1 - h.dampening), decay = static_cast<C>(h.weight_decay);
    const bool use_buffer = h.momentum != 0, first = h.first_step, nesterov = h.nesterov;
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* buf = use_buffer ? momentum_buffer.data<T>() : nullptr;
    parallel_simd(param.numel(), [=](int64_t i) {
      const C pi = static_cast<C>(p[i]);
      C d = static_cast<C>(g[i]) + decay * pi;
      if (use_buffer) {
        const C b = first ? d : momentum * static_cast<C>(buf[i]) + keep * d;
        buf[i] = static_cast<T>(b);
        d = nesterov ? d + momentum * b : b;
      }
      p[i] = static_cast<T>(pi - lr * d);
    });
  });
}

void CpuBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                           const AdamStep& h) {
  check_operands("adam_step", param, {&grad, &exp_avg, &exp_avg_sq});
  check(exp_avg.defined() && exp_avg_sq.defined(), "adam_step: both moment buffers are required");
  check(h.step >= 1, "adam_step: step must be 1-based, got ", h.step);
  dispatch_floating(param.dtype(), "adam_step", [&]<typename T>() {
    using C = compute_t<T>;
    const double correction1 = 1 - std::pow(h.beta1, static_cast<double>(h.step));
    const double correction2 = 1 - std::pow(h.beta2, static_cast<double>(h.step));
    const C step_size = static_cast<C>(h.lr / correction1);
    const C inv_sqrt_correction2 = static_cast<C>(1 / std::sqrt(correction2));
    const C w1 = static_cast<C>(1 - h.beta1), b2 = static_cast<C>(h.beta2), w2 = static_cast<C>(1 - h.beta2);
    const C eps = static_cast<C>(h.eps);
    // AdamW shrinks the parameter before the update; Adam adds the decay to the gradient.
    const C shrink = static_cast<C>(h.decoupled_weight_decay ? 1 - h.lr * h.weight_decay : 1);
    const C l2 = static_cast<C>(h.decoupled_weight_decay ? 0 : h.weight_decay);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* m = exp_avg.data<T>();
    T* v = exp_avg_sq.data<T>();
    parallel_simd(param.numel(), [=](int64_t i) {
      const C pi = static_cast<C>(p[i]);
      const C gi = static_cast<C>(g[i]) + l2 * pi;
      C mi = static_cast<C>(m[i]);
      mi += w1 * (gi - mi);  // PyTorch's lerp form of beta1 * m + (1 - beta1) * g
      const C vi = b2 * static_cast<C>(v[i]) + w2 * gi * gi;
      m[i] = static_cast<T>(mi);
      v[i] = static_cast<T>(vi);
      const C denom = std::sqrt(vi) * inv_sqrt_correction2 + eps;
      p[i] = static_cast<T>(pi * shrink - step_size * mi / denom);
    });
  });
}

}  // namespace ember
