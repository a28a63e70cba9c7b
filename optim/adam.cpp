#include "optim/adam.h"

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

void Adam::update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay) {
  const AdamStep h{.lr = lr, .beta1 = options_.beta1, .beta2 = options_.beta2, .eps = options_.eps,
                   .weight_decay = weight_decay, .decoupled_weight_decay = decoupled_weight_decay_, .step = state.steps};
  const Tensor exp_avg = state_zeros(state, "exp_avg", param);
  const Tensor exp_avg_sq = state_zeros(state, "exp_avg_sq", param);
  backend_for(param.device()).adam_step(param, grad, exp_avg, exp_avg_sq, h);
}

void Adam::check_param_state(const std::string& prefix, const Tensor& param,
                             const std::map<std::string, Tensor>& state) const {
  expect_state(prefix, param, state, {"exp_avg", "exp_avg_sq"});
}

}  // namespace ember
