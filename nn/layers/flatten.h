#pragma once
// Flatten: merges dims start_dim..end_dim into one ([N, C, H, W] -> [N, C*H*W] by default).
#include "nn/module.h"

namespace ember::nn {

class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t start_dim_, end_dim_;
};

}  // namespace ember::nn
