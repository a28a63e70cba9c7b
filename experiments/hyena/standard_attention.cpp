#include "experiments/hyena/standard_attention.h"

#include <cmath>
#include <limits>

#include "autograd/elementwise.h"
#include "autograd/functional.h"
#include "autograd/index_ops.h"
#include "autograd/linalg.h"
#include "autograd/shape_ops.h"
#include "autograd/unary.h"
#include "nn/layers/linear.h"
#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::hyena {

StandardAttention::StandardAttention(int64_t d_model, int64_t n_heads)
    : nn::Module("StandardAttention(" + std::to_string(d_model) + ", heads=" + std::to_string(n_heads) + ")"),
      d_model_(d_model),
      n_heads_(n_heads) {
  check(d_model > 0 && n_heads > 0 && d_model % n_heads == 0, describe(), ": d_model must be a positive multiple of the heads");
  qkv_ = register_module("qkv", std::make_shared<nn::Linear>(d_model, 3 * d_model));
  out_proj_ = register_module("out_proj", std::make_shared<nn::Linear>(d_model, d_model));
}

Tensor StandardAttention::forward(const Tensor& x) {
  check(x.dim() == 3 && x.size(2) == d_model_, describe(), ": input ", x.shape(), " must be [B, T, ", d_model_, "]");
  const int64_t batch = x.size(0), length = x.size(1), head_dim = d_model_ / n_heads_;
  const std::vector<Tensor> qkv = split(qkv_->forward(x), d_model_, 2);
  auto heads = [&](const Tensor& p) { return transpose(reshape(p, {batch, length, n_heads_, head_dim}), 1, 2); };
  const Tensor q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
  Tensor scores = matmul(q, transpose(k, 2, 3)) * (1.0 / std::sqrt(static_cast<double>(head_dim)));
  const Tensor position = arange(0, static_cast<double>(length), 1, {.device = x.device()});
  const Tensor future = gt(reshape(position, {1, length}), reshape(position, {length, 1}));  // key after query
  scores = masked_fill(scores, future, -std::numeric_limits<double>::infinity());
  const Tensor y = matmul(softmax(scores, -1), v);
  return out_proj_->forward(reshape(transpose(y, 1, 2), {batch, length, d_model_}));
}

}  // namespace ember::hyena
