#pragma once
// The fused optimizer steps, written once for both backends: the checks of their operands, the
// scalars of one step (prepared in double from the hyper-parameters, then held in the compute
// type) and the update of one element, an EMBER_HOST_DEVICE function that the CPU loop
// (backends/cpu/optim.cpp) and the CUDA kernel (backends/cuda/optim.cu) call. PyTorch's
// semantics: SGD with momentum, dampening, Nesterov and L2 decay; Adam with L2 decay, AdamW
// with decoupled decay.
#include <cmath>
#include <initializer_list>

#include "backends/backend.h"
#include "backends/host_device.h"

namespace ember::optim_formulas {

// The kernels index raw pointers, so a caller's mistake would be a memory error: refuse it.
inline void check_operands(const char* op, const Tensor& param, std::initializer_list<const Tensor*> others) {
  check(param.is_contiguous(), op, ": parameter of shape ", param.shape(), " is not contiguous");
  for (const Tensor* t : others) {
    if (!t->defined()) continue;
    check(t->is_contiguous() && t->shape() == param.shape() && t->dtype() == param.dtype(), op, ": operand ",
          t->dtype(), " ", t->shape(), " does not match the contiguous parameter ", param.dtype(), " ", param.shape());
  }
}

template <typename C>
struct Sgd {
  C lr, momentum, keep, decay;  // keep = 1 - dampening
  bool use_buffer, first, nesterov;

  static Sgd from(const SgdStep& h, const Tensor& momentum_buffer) {
    check(h.momentum == 0 || momentum_buffer.defined(), "sgd_step: momentum ", h.momentum, " needs a momentum buffer");
    return {static_cast<C>(h.lr), static_cast<C>(h.momentum), static_cast<C>(1 - h.dampening),
            static_cast<C>(h.weight_decay), h.momentum != 0, h.first_step, h.nesterov};
  }
};

template <typename C>
struct SgdResult {
  C param, buffer;  // buffer: the new momentum buffer (unused without momentum)
};

template <typename C>
EMBER_HOST_DEVICE SgdResult<C> sgd_update(const Sgd<C>& k, C p, C g, C buffer) {
  C d = g + k.decay * p;
  if (k.use_buffer) {
    buffer = k.first ? d : k.momentum * buffer + k.keep * d;
    d = k.nesterov ? d + k.momentum * buffer : buffer;
  }
  return {p - k.lr * d, buffer};
}

template <typename C>
struct Adam {
  C step_size, inv_sqrt_correction2, w1, b2, w2, eps, shrink, l2;

  static Adam from(const AdamStep& h, const Tensor& exp_avg, const Tensor& exp_avg_sq) {
    check(exp_avg.defined() && exp_avg_sq.defined(), "adam_step: both moment buffers are required");
    check(h.step >= 1, "adam_step: step must be 1-based, got ", h.step);
    const double correction1 = 1 - std::pow(h.beta1, static_cast<double>(h.step));
    const double correction2 = 1 - std::pow(h.beta2, static_cast<double>(h.step));
    // AdamW shrinks the parameter before the update; Adam adds the decay to the gradient.
    const double shrink = h.decoupled_weight_decay ? 1 - h.lr * h.weight_decay : 1;
    const double l2 = h.decoupled_weight_decay ? 0 : h.weight_decay;
    return {static_cast<C>(h.lr / correction1), static_cast<C>(1 / std::sqrt(correction2)), static_cast<C>(1 - h.beta1),
            static_cast<C>(h.beta2),            static_cast<C>(1 - h.beta2),                static_cast<C>(h.eps),
            static_cast<C>(shrink),             static_cast<C>(l2)};
  }
};

template <typename C>
struct AdamResult {
  C param, exp_avg, exp_avg_sq;
};

template <typename C>
EMBER_HOST_DEVICE AdamResult<C> adam_update(const Adam<C>& k, C p, C g, C m, C v) {
  g += k.l2 * p;
  m += k.w1 * (g - m);  // PyTorch's lerp form of beta1 * m + (1 - beta1) * g
  v = k.b2 * v + k.w2 * g * g;
  const C denom = std::sqrt(v) * k.inv_sqrt_correction2 + k.eps;
  return {p * k.shrink - k.step_size * m / denom, m, v};
}

}  // namespace ember::optim_formulas
