#include "nn/layers/relative_attention.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/elementwise.h"
#include "autograd/index_ops.h"
#include "autograd/linalg.h"
#include "autograd/functional.h"
#include "autograd/shape_ops.h"
#include "autograd/unary.h"
#include "nn/init.h"
#include "nn/layers/support.h"
#include "tensor/creation.h"

namespace ember::nn {

Tensor relative_position_index(int64_t h, int64_t w) {
  check(h > 0 && w > 0, "relative_position_index: grid ", h, "x", w, " must be positive");
  const int64_t n = h * w;
  std::vector<int64_t> index(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t dy = i / w - j / w + h - 1, dx = i % w - j % w + w - 1;  // shifted to >= 0
      index[static_cast<size_t>(i * n + j)] = dy * (2 * w - 1) + dx;
    }
  return from_vector<int64_t>(index, {n * n});
}

RelativeAttention::RelativeAttention(int64_t d_model, int64_t n_heads, int64_t grid_h, int64_t grid_w, bool bias)
    : Module(describe_call("RelativeAttention", d_model, "heads=" + std::to_string(n_heads),
                           "grid=" + std::to_string(grid_h) + "x" + std::to_string(grid_w))),
      d_model_(d_model),
      n_heads_(n_heads),
      grid_h_(grid_h),
      grid_w_(grid_w) {
  check_positive(describe(), {d_model, n_heads, grid_h, grid_w});
  check(d_model % n_heads == 0, describe(), ": d_model ", d_model, " is not a multiple of heads ", n_heads);
  qkv_ = register_module("qkv", std::make_shared<Linear>(d_model, 3 * d_model, bias));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(d_model, d_model, bias));
  table_ = register_parameter("relative_position_bias_table", empty({(2 * grid_h - 1) * (2 * grid_w - 1), n_heads}));
  init::normal_(table_, 0, 0.02);
  index_ = register_buffer("relative_position_index", relative_position_index(grid_h, grid_w));
}

Tensor RelativeAttention::position_bias() const {
  const int64_t n = grid_h_ * grid_w_;
  return permute(reshape(index_select(table_, 0, index_), {n, n, n_heads_}), {2, 0, 1});
}

Tensor RelativeAttention::forward(const Tensor& x) { return forward(x, Tensor()); }

Tensor RelativeAttention::forward(const Tensor& x, const Tensor& mask) {
  const int64_t n = grid_h_ * grid_w_, heads = n_heads_, head_dim = d_model_ / n_heads_;
  check(x.dim() == 3 && x.size(1) == n && x.size(2) == d_model_, describe(), ": input ", x.shape(), " must be [B, ", n,
        ", ", d_model_, "]");
  const int64_t batch = x.size(0);
  const Tensor qkv = permute(reshape(qkv_->forward(x), {batch, n, 3, heads, head_dim}), {2, 0, 3, 1, 4});
  const Tensor q = select(qkv, 0, 0), k = select(qkv, 0, 1), v = select(qkv, 0, 2);  // [B, H, N, d_h]
  Tensor scores = matmul(q, transpose(k, -2, -1)) * (1.0 / std::sqrt(static_cast<double>(head_dim))) + position_bias();
  if (mask.defined()) {
    check(mask.dtype() == DType::Bool && mask.dim() == 3 && mask.size(1) == n && mask.size(2) == n, describe(),
          ": mask ", mask.shape(), " of ", mask.dtype(), " must be bool [G, ", n, ", ", n, "]");
    const int64_t groups = mask.size(0);
    check(batch % groups == 0, describe(), ": batch ", batch, " is not a multiple of the mask's ", groups, " windows");
    const Tensor blocked = full({}, -std::numeric_limits<double>::infinity(), {.dtype = scores.dtype(), .device = scores.device()});
    scores = reshape(where(unsqueeze(mask, 1), reshape(scores, {batch / groups, groups, heads, n, n}), blocked),
                     {batch, heads, n, n});
  }
  const Tensor out = matmul(softmax(scores, -1), v);  // [B, H, N, d_h]
  return out_proj_->forward(reshape(transpose(out, 1, 2), {batch, n, d_model_}));
}

}  // namespace ember::nn
