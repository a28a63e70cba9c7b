#include "nn/layers/embedding.h"

#include "autograd/index_ops.h"
#include "nn/init.h"
#include "nn/layers/support.h"
#include "tensor/creation.h"

namespace ember::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim)
    : Module(describe_call("Embedding", num_embeddings, embedding_dim)) {
  check_positive(describe(), {num_embeddings, embedding_dim});
  weight_ = register_parameter("weight", empty({num_embeddings, embedding_dim}));
  init::normal_(weight_);
}

Tensor Embedding::forward(const Tensor& indices) {
  check(indices.dtype() == DType::I64, describe(), ": indices ", indices.shape(), " must be i64, got ", indices.dtype());
  return embedding(weight_, indices);
}

}  // namespace ember::nn
