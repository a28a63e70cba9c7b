#pragma once
// A mini CoAtNet (Dai et al. 2021): convolution stages first (MBConv with squeeze-excitation,
// where locality helps most), then Transformer stages whose attention adds a learned
// relative position bias to the logits (the paper's "relative attention": translation
// equivariance as in a convolution, global receptive field as in attention), halving the
// resolution between stages, then mean pooling and a Linear head.
// The paper's C-C-T-T layout halves the resolution five times from 224x224; a 28x28 input has
// three halvings to spend, so here the stem keeps the resolution (stride 1), each conv stage
// halves it, the first attention stage keeps it and each later attention stage halves it
// (3x3 max pool, stride 2, then a 1x1 projection, as the paper's downsampling of the residual
// path). 28x28: stem 28, conv stages 14 and 7, attention stages 7x7 (49 tokens) and 4x4.
#include <memory>
#include <string>
#include <vector>

#include "nn/sequential.h"

namespace ember::nn {

struct CoAtNetOptions {
  int64_t image_size = 28;  // square images
  int64_t in_channels = 1;
  int64_t num_classes = 10;
  int64_t stem_channels = 16;
  std::vector<int64_t> conv_channels = {32, 64};  // MBConv stages; the first block of each has stride 2
  std::vector<int64_t> conv_depths = {1, 1};      // MBConv blocks per stage
  std::vector<int64_t> attention_dims = {64, 128};   // Transformer stages (at least one)
  std::vector<int64_t> attention_depths = {1, 1};    // TransformerBlocks per stage
  int64_t head_dim = 16;    // heads = max(1, d / head_dim), which must divide d
  int64_t expansion = 4;    // of the MBConvs
  double se_ratio = 0.25;   // of the MBConvs (0: no squeeze-excitation)
  double mlp_ratio = 4;
  std::string activation = "gelu";
  double dropout = 0;       // in the Transformer blocks
};

// [B, C, S, S] -> [B, d, S', S']: optional downsampling (MaxPool2d(3, 2, 1)), a 1x1 Conv2d
// projection to d, then TransformerBlocks whose mixer is a RelativeAttention over the S' x S'
// grid, and back to a feature map. Children: pool (when downsampling), proj, blocks.
class RelativeTransformerStage : public Module {
 public:
  RelativeTransformerStage(int64_t in_channels, int64_t d_model, int64_t depth, int64_t in_side, bool downsample,
                           const CoAtNetOptions& options);
  Tensor forward(const Tensor& x) override;
  int64_t out_side() const { return side_; }

 private:
  int64_t in_channels_, in_side_, d_model_, side_;
  ModulePtr pool_, proj_, blocks_;
};

// [B, C, S, S] -> logits [B, num_classes]. Children: stem (conv 3x3 - BatchNorm - activation),
// conv1 .. convN (Sequentials of MBConv), attn1 .. attnM (RelativeTransformerStage), norm
// (LayerNorm over the last stage's channels), head. Linear layers start as in
// init_transformer_.
class CoAtNet : public Module {
 public:
  explicit CoAtNet(const CoAtNetOptions& options);
  Tensor forward(const Tensor& images) override;

 private:
  CoAtNetOptions options_;
  std::vector<ModulePtr> stages_;  // stem, conv stages, attention stages, in order
  ModulePtr norm_, head_;
};

// Size index 0 .. 4 of nn/models/model_sizes.h (width w, depth k): stem w, conv stages {w, 2w}
// with depths {1, k}, attention stages {2w, 4w} with depths {k, k}, head width 16. Parameters
// at 28x28x1, 10 classes (ModelSizes.ParameterCounts): 0: 75,384; 1: 166,063; 2: 586,082;
// 3: 1,306,126; 4: 3,472,306.
CoAtNetOptions coatnet_options(int64_t size, int64_t image_size = 28, int64_t in_channels = 1,
                               int64_t num_classes = 10);
std::shared_ptr<CoAtNet> coatnet(int64_t size, int64_t image_size = 28, int64_t in_channels = 1,
                                 int64_t num_classes = 10);

}  // namespace ember::nn
