#pragma once
// A mini MobileViT (Mehta & Rastegari 2021): MobileNetV2 inverted residual blocks, then
// stages whose MobileViT block mixes locally with convolutions and globally with a
// Transformer over unfolded patches (nn/layers/patches.h), mean pooling and a Linear head.
// Differences from the paper, for 28x28 inputs: the stem keeps the resolution (stride 1),
// there is no final 1x1 expansion conv before pooling, and a stage whose side the patch size
// does not divide (7x7 with p = 2) uses p = 1, every pixel its own patch, which is plain
// global attention over the pixels (the paper's 256x256 inputs never meet an odd side).
#include <memory>
#include <string>
#include <vector>

#include "nn/sequential.h"

namespace ember::nn {

// [B, C, H, W] -> [B, C, H, W]: local = conv 3x3 - BN - act then a 1x1 conv to d (no bias);
// unfold into p x p patches, Transformer blocks across the patches (pixel position k of every
// patch is one sequence of N = H W / p^2 tokens), LayerNorm, fold back; conv 1x1 to C - BN -
// act; concatenated with the input and fused by conv 3x3 (2C -> C) - BN - act.
// Children: local, to_tokens, blocks, norm, from_tokens, fuse.
class MobileViTBlock : public Module {
 public:
  MobileViTBlock(int64_t channels, int64_t d_model, int64_t depth, int64_t patch, int64_t n_heads, double mlp_ratio = 2,
                 const std::string& activation = "silu", double dropout = 0);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t channels_, d_model_, patch_;
  ModulePtr local_, to_tokens_, blocks_, norm_, from_tokens_, fuse_;
};

struct MobileViTOptions {
  int64_t image_size = 28;  // square images
  int64_t in_channels = 1;
  int64_t num_classes = 10;
  int64_t stem_channels = 16;               // stem conv, then one MV2 block at this width
  std::vector<int64_t> channels = {32, 64};  // per stage: an MV2 block with stride 2, then a MobileViTBlock
  std::vector<int64_t> dims = {64, 96};      // the MobileViTBlocks' Transformer widths
  std::vector<int64_t> depths = {2, 2};      // their TransformerBlocks (0: the stage has no MobileViTBlock)
  int64_t patch_size = 2;  // 1 where it does not divide the stage's side (see above)
  int64_t head_dim = 16;   // heads = max(1, d / head_dim), which must divide d
  int64_t expansion = 4;   // of the MV2 blocks
  double mlp_ratio = 2;    // the paper's FFN is 2x wide
  std::string activation = "silu";
  double dropout = 0;
};

// [B, C, S, S] -> logits [B, num_classes]. Children: stem (conv 3x3 - BN - act, then an MBConv),
// stage1 .. stageN (Sequential: MBConv with stride 2, MobileViTBlock), head. Linear layers start
// as in init_transformer_.
class MobileViT : public Module {
 public:
  explicit MobileViT(const MobileViTOptions& options);
  Tensor forward(const Tensor& images) override;

 private:
  MobileViTOptions options_;
  std::vector<ModulePtr> stages_;
  ModulePtr head_;
};

// Size index 0 .. 4 of nn/models/model_sizes.h (width w, depth k): stem max(8, w / 2), stages
// {w, 2w} with Transformer widths {2w, 3w} and depths {k, k}, head width 16. Parameters at
// 28x28x1, 10 classes (ModelSizes.ParameterCounts): 0: 73,154; 1: 161,950; 2: 393,818;
// 3: 879,490; 4: 1,987,178.
MobileViTOptions mobilevit_options(int64_t size, int64_t image_size = 28, int64_t in_channels = 1,
                                   int64_t num_classes = 10);
std::shared_ptr<MobileViT> mobilevit(int64_t size, int64_t image_size = 28, int64_t in_channels = 1,
                                     int64_t num_classes = 10);

}  // namespace ember::nn
