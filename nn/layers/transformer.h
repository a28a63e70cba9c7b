#pragma once
// The pieces Transformer models are built from: the pre-norm TransformerBlock with its
// FeedForward, PatchEmbed (images to tokens), and GPT-2's initialisation.
#include <string>

#include "nn/layers/conv.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/step.h"
#include "nn/sequential.h"

namespace ember::nn {

// out_proj(act(in_proj(x))) over the last dim: d -> hidden -> d.
class FeedForward : public Module {
 public:
  FeedForward(int64_t d_model, int64_t hidden, const std::string& activation = "gelu", bool bias = true);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Linear> in_proj_, out_proj_;
  ModulePtr act_;
};

struct TransformerBlockOptions {
  int64_t d_model = 0;
  int64_t n_heads = 1;
  double mlp_ratio = 4;             // the FeedForward's hidden width is round(mlp_ratio * d_model)
  std::string activation = "gelu";  // a name for nn::Activation
  double dropout = 0;               // on attention probabilities and on each residual branch
  bool causal = false;
  bool bias = true;                 // in every Linear
};

// Pre-norm (GPT-2): x = x + dropout(mixer(ln1(x))); x = x + dropout(mlp(ln2(x))) over [B, T, d].
// The mixer is MultiHeadAttention unless another token mixer [B, T, d] -> [B, T, d] is given
// (a HyenaOperator); options.n_heads and options.causal only configure the attention.
// Children: ln1, mixer, ln2, mlp (, dropout). It steps (nn/layers/step.h) when its mixer does.
class TransformerBlock : public Module, public CausalStep {
 public:
  explicit TransformerBlock(const TransformerBlockOptions& options, ModulePtr mixer = nullptr);
  Tensor forward(const Tensor& x) override;
  Tensor forward_step(const Tensor& x, StepCache& cache) override;

 private:
  int64_t d_model_;
  std::shared_ptr<LayerNorm> ln1_, ln2_;
  ModulePtr mixer_, mlp_, dropout_;

  // x + dropout(mixed), then the MLP branch; mixed = mixer(ln1(x)), however it was computed.
  Tensor finish(const Tensor& x, const Tensor& mixed);
};

// n TransformerBlocks with attention, children "0" .. "n-1".
std::shared_ptr<Sequential> transformer_blocks(int64_t n, const TransformerBlockOptions& options);

// [B, C, H, W] -> tokens [B, (H / p) (W / p), d]: a Conv2d with kernel = stride = p, flattened
// row-major over the patch grid. H and W must be multiples of p.
class PatchEmbed : public Module {
 public:
  PatchEmbed(int64_t in_channels, int64_t patch_size, int64_t d_model);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t in_channels_, patch_size_;
  std::shared_ptr<Conv2d> proj_;
};

// GPT-2's initialisation, which the Transformer models here apply when built: every Linear and
// Embedding weight ~ N(0, std) and every Linear bias 0, except that a Linear named out_proj
// (the last layer of a residual branch) gets std / sqrt(2 n_layers), so the residual stream's
// variance does not grow with depth. HyenaFilters are left alone: their implicit filter
// networks keep the initialisation they were designed with.
void init_transformer_(Module& model, int64_t n_layers, double std = 0.02);

}  // namespace ember::nn
