#include "nn/models/text_encoder.h"

#include "autograd/elementwise.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "nn/init.h"
#include "nn/layers/embedding.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/support.h"
#include "nn/layers/transformer.h"
#include "tensor/creation.h"

namespace ember::nn {

ConvMixer::ConvMixer(int64_t d_model, int64_t kernel)
    : Module(describe_call("ConvMixer", d_model, "kernel=" + std::to_string(kernel))), d_model_(d_model) {
  check_positive(describe(), {d_model, kernel});
  check(kernel % 2 == 1, describe(), ": the kernel must be odd so that 'same' padding is symmetric");
  conv_ = register_module("conv", std::make_shared<Conv1d>(d_model, d_model, kernel,
                                                           ConvOptions{.padding = kernel / 2, .groups = d_model}));
}

Tensor ConvMixer::forward(const Tensor& x) {
  check(x.dim() == 3 && x.size(2) == d_model_, describe(), ": input ", x.shape(), " must be [B, T, ", d_model_, "]");
  return transpose(conv_->forward(transpose(x, 1, 2)), 1, 2);
}

TextEncoder::TextEncoder(const TextEncoderOptions& o)
    : Module(describe_call("TextEncoder", o.layout, o.d_model, "heads=" + std::to_string(o.n_heads),
                           "max_length=" + std::to_string(o.max_length))),
      options_(o) {
  check_positive(describe(), {o.vocab_size, o.max_length, o.d_model, o.n_heads, o.num_classes});
  check(!o.layout.empty(), describe(), ": the layout needs at least one block");
  const TransformerBlockOptions block{.d_model = o.d_model,
                                      .n_heads = o.n_heads,
                                      .mlp_ratio = o.mlp_ratio,
                                      .activation = o.activation,
                                      .dropout = o.dropout};
  auto blocks = std::make_shared<Sequential>();
  for (char kind : o.layout) {
    check(kind == 'C' || kind == 'A', describe(), ": layout letter '", std::string(1, kind),
          "' is neither C (conv) nor A (attention)");
    blocks->push_back(kind == 'A' ? std::make_shared<TransformerBlock>(block)
                                  : std::make_shared<TransformerBlock>(
                                        block, std::make_shared<ConvMixer>(o.d_model, o.conv_kernel)));
  }
  embed_ = register_module("embed", std::make_shared<Embedding>(o.vocab_size, o.d_model));
  pos_emb_ = register_parameter("pos_emb", empty({o.max_length, o.d_model}));
  blocks_ = register_module("blocks", blocks);
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{o.d_model}));
  head_ = register_module("head", std::make_shared<Linear>(o.d_model, o.num_classes));
  init_transformer_(*this, static_cast<int64_t>(o.layout.size()));
  init::normal_(pos_emb_, 0, 0.02);
}

Tensor TextEncoder::forward(const Tensor& tokens) {
  check(tokens.dim() == 2 && tokens.dtype() == DType::I64, describe(), ": input ", tokens.shape(),
        " must be i64 tokens [B, T]");
  const int64_t length = tokens.size(1);
  check(length >= 1 && length <= options_.max_length, describe(), ": input length ", length, " must be in [1, ",
        options_.max_length, "]");
  const Tensor h = embed_->forward(tokens) + slice(pos_emb_, 0, 0, length);
  return head_->forward(mean(norm_->forward(blocks_->forward(h)), {1}));
}

}  // namespace ember::nn
