// Fused optimizer updates: one pass per parameter reading and writing each element once, on
// the checks, scalars and per-element update of optim_formulas.h that the CPU backend also uses.
#include <initializer_list>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"
#include "backends/optim_formulas.h"

namespace ember {
namespace {

template <typename T>
struct SgdFn {
  using C = compute_t<T>;
  T* p;
  const T* g;
  T* buf;  // null without momentum
  optim_formulas::Sgd<C> k;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0];
    const auto r = optim_formulas::sgd_update(k, cuda::widen(p[i]), cuda::widen(g[i]), buf ? cuda::widen(buf[i]) : C(0));
    if (buf) buf[i] = cuda::narrow<T>(r.buffer);
    p[i] = cuda::narrow<T>(r.param);
  }
};

template <typename T>
struct AdamFn {
  using C = compute_t<T>;
  T* p;
  const T* g;
  T* m;
  T* v;
  optim_formulas::Adam<C> k;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0];
    const auto r = optim_formulas::adam_update(k, cuda::widen(p[i]), cuda::widen(g[i]), cuda::widen(m[i]), cuda::widen(v[i]));
    m[i] = cuda::narrow<T>(r.exp_avg);
    v[i] = cuda::narrow<T>(r.exp_avg_sq);
    p[i] = cuda::narrow<T>(r.param);
  }
};

void check_operands(const char* op, const Tensor& param, std::initializer_list<const Tensor*> others) {
  optim_formulas::check_operands(op, param, others);
  cuda::check_on_device(op, {&param});
  for (const Tensor* t : others)
    if (t->defined()) cuda::check_on_device(op, {t});
}

}  // namespace

void CudaBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& h) {
  check_operands("sgd_step", param, {&grad, &momentum_buffer});
  dispatch_floating(param.dtype(), "sgd_step", [&]<typename T>() {
    const auto k = optim_formulas::Sgd<compute_t<T>>::from(h, momentum_buffer);
    T* buf = k.use_buffer ? static_cast<T*>(momentum_buffer.data_ptr()) : nullptr;
    cuda::launch_elementwise(cuda::range_layout(param.numel()),
                             SgdFn<T>{static_cast<T*>(param.data_ptr()), static_cast<const T*>(grad.data_ptr()), buf, k});
  });
}

void CudaBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                            const AdamStep& h) {
  check_operands("adam_step", param, {&grad, &exp_avg, &exp_avg_sq});
  dispatch_floating(param.dtype(), "adam_step", [&]<typename T>() {
    const auto k = optim_formulas::Adam<compute_t<T>>::from(h, exp_avg, exp_avg_sq);
    cuda::launch_elementwise(cuda::range_layout(param.numel()),
                             AdamFn<T>{static_cast<T*>(param.data_ptr()), static_cast<const T*>(grad.data_ptr()),
                                       static_cast<T*>(exp_avg.data_ptr()), static_cast<T*>(exp_avg_sq.data_ptr()), k});
  });
}

}  // namespace ember
