#pragma once
// "Standard attention" of the speed study: causal multi-head self-attention written out from
// matmul, masked_fill and softmax, so it forms the [B, H, T, T] score matrix (the quadratic
// memory that the paper's PyTorch baseline has and the fused kernel avoids). Same projections
// as nn::MultiHeadAttention: Linear(d, 3d) then Linear(d, d).
#include "nn/module.h"

namespace ember::hyena {

class StandardAttention : public nn::Module {
 public:
  StandardAttention(int64_t d_model, int64_t n_heads);
  Tensor forward(const Tensor& x) override;  // [B, T, d] -> [B, T, d]

 private:
  int64_t d_model_, n_heads_;
  nn::ModulePtr qkv_, out_proj_;
};

}  // namespace ember::hyena
