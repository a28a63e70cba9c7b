#include "optim/adam.h"

#include <cmath>

#include "autograd/elementwise.h"
#include "autograd/unary.h"
#include "backends/backend.h"

namespace ember {

Adam::Adam(const char* name, std::vector<ParamGroup> groups, AdamOptions options, bool decoupled_weight_decay)
    : Optimizer(name, std::move(groups), options.lr, options.weight_decay),
      options_(options),
      decoupled_weight_decay_(decoupled_weight_decay) {
  check_hyperparameter(name_, "beta1", options.beta1, 0, 1);
  check_hyperparameter(name_, "beta2", options.beta2, 0, 1);
  check(options.beta1 < 1 && options.beta2 < 1, name_, ": betas must be below 1 (bias correction divides by 1 - beta^t)",
        ", got ", options.beta1, " and ", options.beta2);
  check_hyperparameter(name_, "eps", options.eps, 0);
}

void Adam::update(const Tensor& param, const Tensor& grad_in, ParamState& state, double lr, double weight_decay) {
  const Tensor grad = options_.maximize ? neg(grad_in) : grad_in;
  if (options_.amsgrad) return amsgrad_update(param, grad, state, lr, weight_decay);
  const AdamStep h{.lr = lr, .beta1 = options_.beta1, .beta2 = options_.beta2, .eps = options_.eps,
                   .weight_decay = weight_decay, .decoupled_weight_decay = decoupled_weight_decay_, .step = state.steps};
  const Tensor exp_avg = state_zeros(state, "exp_avg", param);
  const Tensor exp_avg_sq = state_zeros(state, "exp_avg_sq", param);
  backend_for(param.device()).adam_step(param, grad, exp_avg, exp_avg_sq, h);
}

// PyTorch's AMSGrad step, composed of in-place tensor ops (the optimizer runs under NoGradGuard).
// Arithmetic in the parameter's dtype.
void Adam::amsgrad_update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay) {
  const Tensor exp_avg = state_zeros(state, "exp_avg", param);
  const Tensor exp_avg_sq = state_zeros(state, "exp_avg_sq", param);
  const Tensor max_exp_avg_sq = state_zeros(state, "max_exp_avg_sq", param);
  const double beta1 = options_.beta1, beta2 = options_.beta2;
  const double t = static_cast<double>(state.steps);
  const double correction1 = 1 - std::pow(beta1, t), correction2 = 1 - std::pow(beta2, t);
  Tensor g = grad;
  if (weight_decay != 0) {
    if (decoupled_weight_decay_) mul_(param, 1 - lr * weight_decay);
    else g = g + param * weight_decay;
  }
  add_(mul_(exp_avg, beta1), g, 1 - beta1);
  add_(mul_(exp_avg_sq, beta2), g * g, 1 - beta2);
  copy_(max_exp_avg_sq, maximum(max_exp_avg_sq, exp_avg_sq));
  const Tensor denom = sqrt(max_exp_avg_sq) / std::sqrt(correction2) + options_.eps;
  add_(param, exp_avg / denom, -lr / correction1);
}

void Adam::check_param_state(const std::string& prefix, const Tensor& param,
                             const std::map<std::string, Tensor>& state) const {
  if (options_.amsgrad)
    expect_state(prefix, param, state, {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"});
  else
    expect_state(prefix, param, state, {"exp_avg", "exp_avg_sq"});
}

}  // namespace ember
