#pragma once
// The two layers Swin (Liu et al. 2021) adds to a Transformer: (shifted) window attention as a
// token mixer for TransformerBlock, and PatchMerging, its downsampling between stages.
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/relative_attention.h"

namespace ember::nn {

// A token mixer over [B, H W, d] (tokens of an H x W map, row-major): the map is rolled by
// (-shift, -shift), cut into w x w windows, each window attends within itself (RelativeAttention
// with a (2w - 1)^2 bias table; with a shift, masked by shifted_window_mask so tokens that
// came from non-adjacent regions do not mix), and the windows are put back and rolled by
// (+shift, +shift). shift = 0 is W-MSA, shift = w / 2 is SW-MSA. w must divide H and W and
// 0 <= shift < w, else ember::Error. Children: attn; buffer mask [nW, w w, w w] when shifted.
class ShiftedWindowAttention : public Module {
 public:
  ShiftedWindowAttention(int64_t d_model, int64_t n_heads, int64_t height, int64_t width, int64_t window,
                         int64_t shift);
  Tensor forward(const Tensor& x) override;

  const RelativeAttention& attention() const { return *attn_; }

 private:
  int64_t d_model_, height_, width_, window_, shift_;
  std::shared_ptr<RelativeAttention> attn_;
  Tensor mask_;  // undefined without a shift
};

// [B, H W, C] -> [B, (H / 2)(W / 2), 2C]: each 2x2 neighbourhood's four C-vectors are
// concatenated (order (0,0), (1,0), (0,1), (1,1), as Swin's x0..x3), LayerNorm(4C), then
// Linear(4C, 2C) without bias. H and W must be even. Children: norm, reduction.
class PatchMerging : public Module {
 public:
  PatchMerging(int64_t channels, int64_t height, int64_t width);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t channels_, height_, width_;
  std::shared_ptr<LayerNorm> norm_;
  std::shared_ptr<Linear> reduction_;
};

}  // namespace ember::nn
