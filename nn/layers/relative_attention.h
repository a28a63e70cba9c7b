#pragma once
// Self-attention with a learned relative position bias, in the 2-D form of Swin (Liu et al.
// 2021) and CoAtNet (Dai et al. 2021): softmax(q k^T / sqrt(d_h) + B) v, where B[h, i, j] is a
// per-head scalar looked up by the 2-D offset between tokens i and j of a grid_h x grid_w grid.
// The fused scaled_dot_product_attention takes no additive bias, so the scores are formed
// explicitly (matmul, softmax, matmul): cheap for the few dozen tokens of a window or of a
// small feature map, and every piece has its own tested gradient.
#include "nn/layers/linear.h"

namespace ember::nn {

// i64 [N * N] (N = h w): for tokens i, j of an h x w grid in row-major order, the row of the
// (2h - 1)(2w - 1)-row bias table that holds offset (y_i - y_j, x_i - x_j).
Tensor relative_position_index(int64_t h, int64_t w);

// Over [B, N, d] with N = grid_h grid_w. Children qkv = Linear(d, 3d), out_proj = Linear(d, d);
// parameter relative_position_bias_table [(2 grid_h - 1)(2 grid_w - 1), heads] ~ N(0, 0.02);
// buffer relative_position_index [N * N].
class RelativeAttention : public Module {
 public:
  RelativeAttention(int64_t d_model, int64_t n_heads, int64_t grid_h, int64_t grid_w, bool bias = true);
  Tensor forward(const Tensor& x) override;
  // mask: bool [G, N, N], true = attend; B must be a multiple of G and batch row b uses
  // mask[b % G] (the order of window_partition: windows of one image are consecutive). Every
  // query must attend to at least one key (a fully masked row would be 0 / 0).
  Tensor forward(const Tensor& x, const Tensor& mask);
  // B as [heads, N, N], differentiable in the table.
  Tensor position_bias() const;

  int64_t n_heads() const { return n_heads_; }

 private:
  int64_t d_model_, n_heads_, grid_h_, grid_w_;
  std::shared_ptr<Linear> qkv_, out_proj_;
  Tensor table_, index_;
};

}  // namespace ember::nn
