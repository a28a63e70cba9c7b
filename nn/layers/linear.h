#pragma once
// Linear: y = x W^T + b over the last dim of x [..., in] -> [..., out].
#include "nn/module.h"

namespace ember::nn {

class Linear : public Module {
 public:
  // weight [out, in] and bias [out] start from PyTorch's default (init::default_affine_).
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without a bias

 private:
  int64_t in_features_;
  Tensor weight_, bias_;
};

}  // namespace ember::nn
