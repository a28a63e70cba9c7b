#pragma once
// Adam (Kingma & Ba 2015) with bias correction and L2 weight decay added to the gradient, and
// AdamW (Loshchilov & Hutter 2019), whose weight decay shrinks the parameter directly. PyTorch's
// semantics; both run the fused backend step, except with amsgrad (a composed step of tensor
// ops, on any device). maximize ascends the objective: the gradient is negated first, as in
// PyTorch (weight decay still shrinks the parameters).
#include "optim/optimizer.h"

namespace ember {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  // AMSGrad (Reddi et al. 2018): the denominator uses the running maximum of exp_avg_sq (kept in
  // the state "max_exp_avg_sq"), PyTorch's formulation: sqrt(max v) / sqrt(1 - beta2^t) + eps.
  bool amsgrad = false;
  bool maximize = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, AdamOptions options = {}) : Adam("Adam", std::move(groups), options, false) {}
  Adam(std::vector<Tensor> params, AdamOptions options = {}) : Adam(one_group(std::move(params)), options) {}

 protected:
  Adam(const char* name, std::vector<ParamGroup> groups, AdamOptions options, bool decoupled_weight_decay);

 private:
  void update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay) override;
  void amsgrad_update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay);
  void check_param_state(const std::string& prefix, const Tensor& param,
                         const std::map<std::string, Tensor>& state) const override;
  AdamOptions options_;
  bool decoupled_weight_decay_;
};

// PyTorch's AdamW default weight decay is 0.01.
class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, AdamOptions options = {.weight_decay = 0.01})
      : Adam("AdamW", std::move(groups), options, true) {}
  AdamW(std::vector<Tensor> params, AdamOptions options = {.weight_decay = 0.01})
      : AdamW(one_group(std::move(params)), options) {}
};

}  // namespace ember
