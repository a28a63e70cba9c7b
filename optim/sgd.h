#pragma once
// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
// with PyTorch's semantics (the first step's momentum buffer is the gradient itself).
// Full-batch gradient descent is this optimizer fed full-batch gradients.
#include "optim/optimizer.h"

namespace ember {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0
  // Ascend the objective: the gradient is negated before weight decay and momentum, as in PyTorch.
  bool maximize = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, SgdOptions options = {});
  SGD(std::vector<Tensor> params, SgdOptions options = {}) : SGD(one_group(std::move(params)), options) {}

 private:
  void update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay) override;
  void check_param_state(const std::string& prefix, const Tensor& param,
                         const std::map<std::string, Tensor>& state) const override;
  SgdOptions options_;
};

}  // namespace ember
