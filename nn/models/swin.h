#pragma once
// A mini Swin Transformer (Liu et al. 2021): patch embedding, stages of Swin blocks (pre-norm
// TransformerBlocks whose mixer is ShiftedWindowAttention, alternating regular and shifted
// windows, with a relative position bias per window), PatchMerging between stages (half the
// resolution, twice the width), a final LayerNorm, mean pooling and a Linear head.
// As in the reference code, a stage whose map is no larger than the window uses one window
// covering the whole map and no shift; otherwise the window must divide the map's side
// (ember::Error naming the stage). 28x28 with patch 2 and window 7: stage 1 is 14x14 (four
// windows, shift 3), stage 2 is 7x7 (one window).
#include <memory>
#include <string>
#include <vector>

#include "nn/sequential.h"

namespace ember::nn {

struct SwinOptions {
  int64_t image_size = 28;  // square images, a multiple of patch_size
  int64_t in_channels = 1;
  int64_t num_classes = 10;
  int64_t patch_size = 2;
  int64_t embed_dim = 32;               // stage i has embed_dim 2^i channels
  std::vector<int64_t> depths = {2, 2};  // Swin blocks per stage (shift on every second)
  int64_t window = 7;
  int64_t head_dim = 16;  // heads = max(1, d / head_dim), which must divide d
  double mlp_ratio = 4;
  std::string activation = "gelu";
  double dropout = 0;
};

// [B, C, S, S] -> logits [B, num_classes]. Children: patch_embed (PatchEmbed), embed_norm,
// stage1 .. stageN (Sequentials of TransformerBlocks with a ShiftedWindowAttention mixer),
// merge1 .. merge(N-1) (PatchMerging), norm, head. Linear layers start as in
// init_transformer_.
class Swin : public Module {
 public:
  explicit Swin(const SwinOptions& options);
  Tensor forward(const Tensor& images) override;

 private:
  SwinOptions options_;
  std::vector<ModulePtr> stages_;  // patch_embed, embed_norm, stage1, merge1, stage2, ..., in order
  ModulePtr norm_, head_;
};

// Size index 0 .. 4 of nn/models/model_sizes.h (width w, depth k): embed_dim w, two stages of
// 2k blocks each, patch 2, window 7 when it divides image / 2, else 4. Parameters at 28x28x1,
// 10 classes (ModelSizes.ParameterCounts): 0: 35,664; 1: 77,898; 2: 264,258; 3: 586,846;
// 4: 1,536,978.
SwinOptions swin_options(int64_t size, int64_t image_size = 28, int64_t in_channels = 1, int64_t num_classes = 10);
std::shared_ptr<Swin> swin(int64_t size, int64_t image_size = 28, int64_t in_channels = 1, int64_t num_classes = 10);

}  // namespace ember::nn
