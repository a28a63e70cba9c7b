#pragma once
// Byte-level text encoders for classification, in two twins that differ only in their token
// mixers: a HybridBERT-style hybrid (1-D convolution blocks over the byte sequence before the
// attention blocks) and a plain Transformer encoder. The block order is a layout string, one
// letter per block: 'C' a convolution block, 'A' a Transformer (attention) block. "CCAA" is the
// hybrid, "AAAA" the plain encoder; "AACC" and "CACA" put the same blocks in the reverse order
// and interleaved, which is how the experiments compare orders at exactly equal parameters.
#include <string>

#include "nn/layers/conv.h"
#include "nn/sequential.h"

namespace ember::nn {

// A token mixer [B, T, d] -> [B, T, d]: a depthwise Conv1d over time with "same" padding (odd
// kernel), so every position sees its kernel - 1 neighbours and nothing further. Put inside a
// TransformerBlock it makes a conv block (LayerNorm, conv mixer, LayerNorm, FeedForward) whose
// only difference from an attention block is the mixer, as in MetaFormer / ConvNeXt.
class ConvMixer : public Module {
 public:
  ConvMixer(int64_t d_model, int64_t kernel);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t d_model_;
  std::shared_ptr<Conv1d> conv_;
};

struct TextEncoderOptions {
  int64_t vocab_size = 256;  // bytes
  int64_t max_length = 128;  // the longest input; positions are learned
  int64_t d_model = 64;
  int64_t n_heads = 4;
  std::string layout = "CCAA";  // one letter per block: C conv, A attention
  int64_t conv_kernel = 5;      // odd
  double mlp_ratio = 4;
  int64_t num_classes = 2;
  std::string activation = "gelu";
  double dropout = 0;
};

// Tokens i64 [B, T] (T <= max_length) -> logits [B, num_classes]: byte embedding plus learned
// positions, the blocks of the layout, a final LayerNorm, mean pooling over positions and a
// Linear head. Children: embed, blocks ("0", "1", ...), norm, head; pos_emb [max_length, d].
class TextEncoder : public Module {
 public:
  explicit TextEncoder(const TextEncoderOptions& options);
  Tensor forward(const Tensor& tokens) override;

 private:
  TextEncoderOptions options_;
  ModulePtr embed_, blocks_, norm_, head_;
  Tensor pos_emb_;
};

}  // namespace ember::nn
