// Fused optimizer updates: one OpenMP-parallel, vectorised pass per parameter, so a step reads
// and writes each element once instead of once per elementwise op. The checks, scalars and
// per-element update are optim_formulas.h's (shared with the CUDA kernels); arithmetic runs in
// compute_t<T> (float for bf16).
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided.h"
#include "backends/optim_formulas.h"

namespace ember {
namespace {

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
  optim_formulas::check_operands("sgd_step", param, {&grad, &momentum_buffer});
  dispatch_floating(param.dtype(), "sgd_step", [&]<typename T>() {
    using C = compute_t<T>;
    const auto k = optim_formulas::Sgd<C>::from(h, momentum_buffer);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* buf = k.use_buffer ? momentum_buffer.data<T>() : nullptr;
    parallel_simd(param.numel(), [=](int64_t i) {
      const auto r = optim_formulas::sgd_update(k, static_cast<C>(p[i]), static_cast<C>(g[i]),
                                                buf ? static_cast<C>(buf[i]) : C(0));
      if (buf) buf[i] = static_cast<T>(r.buffer);
      p[i] = static_cast<T>(r.param);
    });
  });
}

void CpuBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                           const AdamStep& h) {
  optim_formulas::check_operands("adam_step", param, {&grad, &exp_avg, &exp_avg_sq});
  dispatch_floating(param.dtype(), "adam_step", [&]<typename T>() {
    using C = compute_t<T>;
    const auto k = optim_formulas::Adam<C>::from(h, exp_avg, exp_avg_sq);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* m = exp_avg.data<T>();
    T* v = exp_avg_sq.data<T>();
    parallel_simd(param.numel(), [=](int64_t i) {
      const auto r = optim_formulas::adam_update(k, static_cast<C>(p[i]), static_cast<C>(g[i]), static_cast<C>(m[i]),
                                                 static_cast<C>(v[i]));
      m[i] = static_cast<T>(r.exp_avg);
      v[i] = static_cast<T>(r.exp_avg_sq);
      p[i] = static_cast<T>(r.param);
    });
  });
}

}  // namespace ember
