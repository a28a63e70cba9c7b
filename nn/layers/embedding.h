#pragma once
// Embedding: a lookup table weight [num_embeddings, dim]; i64 indices of any shape -> indices.shape + [dim].
#include "nn/module.h"

namespace ember::nn {

class Embedding : public Module {
 public:
  // The weight starts N(0, 1), as in PyTorch.
  Embedding(int64_t num_embeddings, int64_t embedding_dim);
  Tensor forward(const Tensor& indices) override;
  const Tensor& weight() const { return weight_; }

 private:
  Tensor weight_;
};

}  // namespace ember::nn
