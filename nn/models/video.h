#pragma once
// Video classifiers over clips [B, F, C, H, W] (F frames), a hybrid and a pure Transformer:
// - VideoHybrid, in the spirit of VideoLLM-style encoders: each frame goes through a small conv
//   stem (two stride-2 3x3 convolutions) and becomes one token (the flattened feature map
//   projected to d_model); a temporal convolution block mixes neighbouring frames, then
//   Transformer blocks attend over the F frame tokens. Attention sees F tokens.
// - VideoTransformer, ViViT's tubelet embedding: space-time patches of `tubelet` frames x
//   patch x patch pixels become tokens, and Transformer blocks attend over all of them: F / t x
//   (H / p) x (W / p) tokens.
// Both end in a LayerNorm, mean pooling over tokens and a Linear head.
#include <string>

#include "nn/sequential.h"

namespace ember::nn {

struct VideoHybridOptions {
  int64_t frames = 8;
  int64_t image_size = 24;  // square frames, a multiple of 4 (the stem halves twice)
  int64_t in_channels = 1;
  int64_t stem_channels = 16;
  int64_t d_model = 64;
  int64_t temporal_kernel = 3;  // odd
  int64_t depth = 2;            // Transformer blocks after the temporal conv block
  int64_t n_heads = 4;
  int64_t num_classes = 4;
  std::string activation = "gelu";
};

// Children: stem (Sequential of conv, act, conv, act), to_token (Linear), temporal (a
// TransformerBlock with a ConvMixer), blocks, norm, head; pos_emb [F, d].
class VideoHybrid : public Module {
 public:
  explicit VideoHybrid(const VideoHybridOptions& options);
  Tensor forward(const Tensor& clips) override;

 private:
  VideoHybridOptions options_;
  ModulePtr stem_, to_token_, temporal_, blocks_, norm_, head_;
  Tensor pos_emb_;
};

struct VideoTransformerOptions {
  int64_t frames = 8;  // a multiple of tubelet
  int64_t image_size = 24;  // a multiple of patch_size
  int64_t in_channels = 1;
  int64_t tubelet = 2;
  int64_t patch_size = 4;
  int64_t d_model = 64;
  int64_t depth = 3;
  int64_t n_heads = 4;
  int64_t num_classes = 4;
  std::string activation = "gelu";
};

// Children: patch_embed (PatchEmbed over tubelet x in_channels channels), blocks, norm, head;
// pos_emb [tokens, d].
class VideoTransformer : public Module {
 public:
  explicit VideoTransformer(const VideoTransformerOptions& options);
  Tensor forward(const Tensor& clips) override;

 private:
  VideoTransformerOptions options_;
  ModulePtr patch_embed_, blocks_, norm_, head_;
  Tensor pos_emb_;
};

}  // namespace ember::nn
