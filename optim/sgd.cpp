#include "optim/sgd.h"

#include "autograd/elementwise.h"

namespace ember {

SGD::SGD(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer("SGD", std::move(groups), options.lr, options.weight_decay), options_(options) {
  check_hyperparameter(name_, "momentum", options.momentum, 0);
  check_hyperparameter(name_, "dampening", options.dampening, 0, 1);
  check(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
        "SGD: nesterov momentum needs momentum > 0 and dampening == 0, got momentum ", options.momentum,
        " and dampening ", options.dampening);
}

void SGD::update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay) {
  momentum_step(param, options_.maximize ? neg(grad) : grad, state,
                {.lr = lr, .momentum = options_.momentum, .dampening = options_.dampening,
                 .weight_decay = weight_decay, .nesterov = options_.nesterov});
}

void SGD::check_param_state(const std::string& prefix, const Tensor& param,
                            const std::map<std::string, Tensor>& state) const {
  if (options_.momentum != 0) expect_state(prefix, param, state, {"momentum_buffer"});
  else expect_state(prefix, param, state, {});
}

}  // namespace ember
