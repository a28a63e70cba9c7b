// Fused optimizer updates: one pass per parameter reading and writing each element once, in
// compute_t<T> with the scalars prepared in double, as the CPU backend does (optim.cpp there).
#include <cmath>
#include <initializer_list>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"

namespace ember {
namespace {

template <typename T>
struct SgdFn {
  using C = compute_t<T>;
  T* p;
  const T* g;
  T* buf;  // null without momentum
  C lr, momentum, keep, decay;
  bool first, nesterov;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0];
    const C pi = cuda::widen(p[i]);
    C d = cuda::widen(g[i]) + decay * pi;
    if (buf) {
      const C b = first ? d : momentum * cuda::widen(buf[i]) + keep * d;
      buf[i] = cuda::narrow<T>(b);
      d = nesterov ? d + momentum * b : b;
    }
    p[i] = cuda::narrow<T>(pi - lr * d);
  }
};

template <typename T>
struct AdamFn {
  using C = compute_t<T>;
  T* p;
  const T* g;
  T* m;
  T* v;
  C step_size, inv_sqrt_correction2, w1, b2, w2, eps, shrink, l2;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0];
    const C pi = cuda::widen(p[i]);
    const C gi = cuda::widen(g[i]) + l2 * pi;
    C mi = cuda::widen(m[i]);
    mi += w1 * (gi - mi);  // PyTorch's lerp form of beta1 * m + (1 - beta1) * g
    const C vi = b2 * cuda::widen(v[i]) + w2 * gi * gi;
    m[i] = cuda::narrow<T>(mi);
    v[i] = cuda::narrow<T>(vi);
    const C denom = std::sqrt(vi) * inv_sqrt_correction2 + eps;
    p[i] = cuda::narrow<T>(pi * shrink - step_size * mi / denom);
  }
};

// The kernels index raw pointers, so a caller's mistake would be a memory error: refuse it.
void check_operands(const char* op, const Tensor& param, std::initializer_list<const Tensor*> others) {
  check(param.is_contiguous(), op, ": parameter of shape ", param.shape(), " is not contiguous");
  cuda::check_on_device(op, {&param});
  for (const Tensor* t : others) {
    if (!t->defined()) continue;
    check(t->is_contiguous() && t->shape() == param.shape() && t->dtype() == param.dtype(), op, ": operand ",
          t->dtype(), " ", t->shape(), " does not match the contiguous parameter ", param.dtype(), " ", param.shape());
    cuda::check_on_device(op, {t});
  }
}

}  // namespace

void CudaBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& h) {
  check_operands("sgd_step", param, {&grad, &momentum_buffer});
  check(h.momentum == 0 || momentum_buffer.defined(), "sgd_step: momentum ", h.momentum, " needs a momentum buffer");
  dispatch_floating(param.dtype(), "sgd_step", [&]<typename T>() {
    using C = compute_t<T>;
    T* buf = h.momentum != 0 ? static_cast<T*>(momentum_buffer.data_ptr()) : nullptr;
    cuda::launch_elementwise(
        cuda::range_layout(param.numel()),
        SgdFn<T>{static_cast<T*>(param.data_ptr()), static_cast<const T*>(grad.data_ptr()), buf, static_cast<C>(h.lr),
                 static_cast<C>(h.momentum), static_cast<C>(1 - h.dampening), static_cast<C>(h.weight_decay),
                 h.first_step, h.nesterov});
  });
}

void CudaBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                            const AdamStep& h) {
  check_operands("adam_step", param, {&grad, &exp_avg, &exp_avg_sq});
  check(exp_avg.defined() && exp_avg_sq.defined(), "adam_step: both moment buffers are required");
  check(h.step >= 1, "adam_step: step must be 1-based, got ", h.step);
  dispatch_floating(param.dtype(), "adam_step", [&]<typename T>() {
    using C = compute_t<T>;
    const double correction1 = 1 - std::pow(h.beta1, static_cast<double>(h.step));
    const double correction2 = 1 - std::pow(h.beta2, static_cast<double>(h.step));
    // AdamW shrinks the parameter before the update; Adam adds the decay to the gradient.
    const double shrink = h.decoupled_weight_decay ? 1 - h.lr * h.weight_decay : 1;
    const double l2 = h.decoupled_weight_decay ? 0 : h.weight_decay;
    cuda::launch_elementwise(
        cuda::range_layout(param.numel()),
        AdamFn<T>{static_cast<T*>(param.data_ptr()), static_cast<const T*>(grad.data_ptr()),
                  static_cast<T*>(exp_avg.data_ptr()), static_cast<T*>(exp_avg_sq.data_ptr()),
                  static_cast<C>(h.lr / correction1), static_cast<C>(1 / std::sqrt(correction2)),
                  static_cast<C>(1 - h.beta1), static_cast<C>(h.beta2), static_cast<C>(1 - h.beta2),
                  static_cast<C>(h.eps), static_cast<C>(shrink), static_cast<C>(l2)});
  });
}

}  // namespace ember
