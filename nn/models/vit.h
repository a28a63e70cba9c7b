#pragma once
// Vision Transformer (Dosovitskiy et al. 2021) for small images: patch embedding, learned
// positional embedding, pre-norm TransformerBlocks, a final LayerNorm and a Linear head.
// The classifier reads the mean of the output tokens instead of a [CLS] token (as the
// paper's GAP variant and later ViTs do): one token fewer and nothing else to learn.
#include <string>

#include "nn/module.h"

namespace ember::nn {

struct ViTOptions {
  int64_t image_size = 32;  // square images, a multiple of patch_size
  int64_t in_channels = 3;
  int64_t patch_size = 4;
  int64_t d_model = 128;
  int64_t depth = 6;  // TransformerBlocks
  int64_t n_heads = 4;
  int64_t num_classes = 10;
  double mlp_ratio = 4;
  std::string activation = "gelu";
  double dropout = 0;
};

// [B, C, S, S] -> logits [B, num_classes]. Children: patch_embed, blocks, norm, head; the
// parameter pos_emb [N, d] (N = (S / patch)^2) starts N(0, 0.02), the rest as in
// init_transformer_.
class ViT : public Module {
 public:
  explicit ViT(const ViTOptions& options);
  Tensor forward(const Tensor& images) override;

 private:
  ViTOptions options_;
  ModulePtr patch_embed_, blocks_, norm_, head_;
  Tensor pos_emb_;
};

}  // namespace ember::nn
