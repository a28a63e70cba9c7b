#pragma once
// CNN-Transformer hybrids in the spirit of CoAtNet (Dai et al. 2021): convolutions first, where
// locality and translation equivariance help most, then Transformer blocks on the tokens the
// convolutions produce.
// - ImageHybrid: a conv stem and stages of ResNet basic blocks, each halving the resolution,
//   then the feature map's H' W' positions as tokens (a 1x1 projection to d_model plus a learned
//   positional embedding), TransformerBlocks, mean pooling and a Linear head. CoAtNet also
//   downsamples between its Transformer stages; here the Transformer stage keeps one width.
// - HybridLM: the CausalLM skeleton of nn/models/gpt.h whose body starts with CausalConvBlocks
//   (causal padding, so the model stays a language model) and continues with causal
//   TransformerBlocks.
#include <string>
#include <vector>

#include "nn/layers/conv.h"
#include "nn/layers/step.h"
#include "nn/models/gpt.h"

namespace ember::nn {

struct ImageHybridOptions {
  int64_t image_size = 32;  // square images
  int64_t in_channels = 3;
  std::vector<int64_t> conv_channels = {32, 64};  // one stage each; the stem has conv_channels[0]
  int64_t blocks_per_stage = 1;                   // BasicBlocks; the first of each stage has stride 2
  int64_t d_model = 128;
  int64_t depth = 2;  // TransformerBlocks
  int64_t n_heads = 4;
  double mlp_ratio = 4;
  int64_t num_classes = 10;
  std::string activation = "gelu";  // in the convolutions and the FeedForwards
  double dropout = 0;               // in the Transformer blocks
};

// [B, C, S, S] -> logits [B, num_classes]. Children: stem (conv 3x3 - BatchNorm - activation),
// stage1 .. stageN (Sequentials of BasicBlocks), to_tokens (PatchEmbed with patch 1), blocks,
// norm, head; pos_emb [H' W', d] is a parameter.
class ImageHybrid : public Module {
 public:
  explicit ImageHybrid(const ImageHybridOptions& options);
  Tensor forward(const Tensor& images) override;

 private:
  ImageHybridOptions options_;
  std::vector<ModulePtr> convs_;  // stem and stages, in order
  ModulePtr to_tokens_, blocks_, norm_, head_;
  Tensor pos_emb_;
};

// x + dropout(out_proj(act(causal_conv(act(in_proj(ln(x))))))) over [B, T, d]: an inverted
// bottleneck as in MBConv, with a 1-D convolution over time in the middle. The convolution
// (kernel k, over expansion * d channels, depthwise or full) sees positions t - k + 1 .. t only.
// Children: ln, in_proj, act, conv, out_proj (, dropout). Stepping (nn/layers/step.h) keeps the
// convolution's last k - 1 inputs (zeros before the first position, as the padding).
class CausalConvBlock : public Module, public CausalStep {
 public:
  CausalConvBlock(int64_t d_model, int64_t kernel, int64_t expansion = 2, bool depthwise = true,
                  const std::string& activation = "gelu", double dropout = 0);
  Tensor forward(const Tensor& x) override;
  Tensor forward_step(const Tensor& x, StepCache& cache) override;

 private:
  int64_t d_model_;
  ModulePtr ln_, in_proj_, act_, out_proj_, dropout_;
  std::shared_ptr<Conv1d> conv_;

  void check_shape(const Tensor& x) const;
  // The convolution's input act(in_proj(ln(x))) as [B, C, T].
  Tensor conv_input(const Tensor& x);
  // x + dropout(out_proj(act(c))) for the convolution's output c [B, C, T].
  Tensor finish(const Tensor& x, const Tensor& c);
};

struct HybridLMOptions {
  GPTOptions lm;             // the skeleton; lm.n_layers TransformerBlocks follow the conv blocks
  int64_t conv_layers = 2;   // CausalConvBlocks
  int64_t conv_kernel = 4;
  int64_t conv_expansion = 2;
  bool depthwise = true;
};

std::shared_ptr<CausalLM> HybridLM(const HybridLMOptions& options);

}  // namespace ember::nn
