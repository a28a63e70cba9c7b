#pragma once
// Dropout: zeroes each element with probability p in training (scaling the kept ones by
// 1 / (1 - p)); the identity in eval().
#include "nn/module.h"

namespace ember::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;

 private:
  double p_;
};

}  // namespace ember::nn
