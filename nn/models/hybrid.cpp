#include "nn/models/hybrid.h"

#include "autograd/elementwise.h"
#include "autograd/index_ops.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "nn/init.h"
#include "nn/layers/activation.h"
#include "nn/layers/dropout.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/support.h"
#include "nn/layers/transformer.h"
#include "nn/models/resnet.h"
#include "tensor/creation.h"

namespace ember::nn {

ImageHybrid::ImageHybrid(const ImageHybridOptions& o)
    : Module(describe_call("ImageHybrid", "image=" + std::to_string(o.image_size),
                           "conv_stages=" + std::to_string(o.conv_channels.size()), o.d_model,
                           "depth=" + std::to_string(o.depth))),
      options_(o) {
  check(!o.conv_channels.empty(), describe(), ": needs at least one conv stage");
  check_positive(describe(), {o.image_size, o.in_channels, o.blocks_per_stage, o.d_model, o.num_classes});
  for (int64_t c : o.conv_channels) check_positive(describe(), {c});
  int64_t width = o.conv_channels.front(), side = o.image_size;
  auto stem = std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
      std::make_shared<Conv2d>(o.in_channels, width, 3, ConvOptions{.padding = 1, .bias = false}),
      std::make_shared<BatchNorm2d>(width), Activation(o.activation)});
  convs_.push_back(register_module("stem", stem));
  for (size_t s = 0; s < o.conv_channels.size(); ++s) {
    auto stage = std::make_shared<Sequential>();
    for (int64_t b = 0; b < o.blocks_per_stage; ++b) {
      stage->push_back(std::make_shared<BasicBlock>(width, o.conv_channels[s], b == 0 ? 2 : 1, o.activation));
      width = o.conv_channels[s];
    }
    side = (side - 1) / 2 + 1;  // a 3x3 convolution with stride 2 and padding 1
    convs_.push_back(register_module("stage" + std::to_string(s + 1), stage));
  }
  to_tokens_ = register_module("to_tokens", std::make_shared<PatchEmbed>(width, 1, o.d_model));
  pos_emb_ = register_parameter("pos_emb", empty({side * side, o.d_model}));
  blocks_ = register_module("blocks", transformer_blocks(o.depth, {.d_model = o.d_model,
                                                                   .n_heads = o.n_heads,
                                                                   .mlp_ratio = o.mlp_ratio,
                                                                   .activation = o.activation,
                                                                   .dropout = o.dropout}));
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{o.d_model}));
  head_ = register_module("head", std::make_shared<Linear>(o.d_model, o.num_classes));
  init_transformer_(*this, o.depth);
  init::normal_(pos_emb_, 0, 0.02);
}

Tensor ImageHybrid::forward(const Tensor& images) {
  check_input(describe(), images, 4, "[B, C, H, W]", options_.in_channels);
  check(images.size(2) == options_.image_size && images.size(3) == options_.image_size, describe(), ": input ",
        images.shape(), " must be ", options_.image_size, "x", options_.image_size, " images");
  Tensor h = images;
  for (const ModulePtr& conv : convs_) h = (*conv)(h);
  h = (*norm_)((*blocks_)((*to_tokens_)(h) + pos_emb_));
  return (*head_)(mean(h, {1}));
}

CausalConvBlock::CausalConvBlock(int64_t d_model, int64_t kernel, int64_t expansion, bool depthwise,
                                 const std::string& activation, double dropout)
    : Module(describe_call("CausalConvBlock", d_model, "kernel=" + std::to_string(kernel),
                           "expansion=" + std::to_string(expansion), depthwise ? "depthwise" : "")),
      d_model_(d_model) {
  check_positive(describe(), {d_model, kernel, expansion});
  check(dropout >= 0 && dropout <= 1, describe(), ": dropout must be in [0, 1]");
  const int64_t channels = expansion * d_model;
  ln_ = register_module("ln", std::make_shared<LayerNorm>(Shape{d_model}));
  in_proj_ = register_module("in_proj", std::make_shared<Linear>(d_model, channels));
  act_ = register_module("act", Activation(activation));
  // Padded by k - 1 on both sides, output t of the convolution covers inputs t - k + 1 .. t:
  // the first T outputs are the causal ones.
  conv_ = register_module("conv", std::make_shared<Conv1d>(channels, channels, kernel,
                                                           ConvOptions{.padding = kernel - 1,
                                                                       .groups = depthwise ? channels : 1}));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(channels, d_model));
  if (dropout > 0) dropout_ = register_module("dropout", std::make_shared<Dropout>(dropout));
}

void CausalConvBlock::check_shape(const Tensor& x) const {
  check(x.dim() == 3 && x.size(2) == d_model_, describe(), ": input ", x.shape(), " must be [B, T, ", d_model_, "]");
}

Tensor CausalConvBlock::conv_input(const Tensor& x) {
  return transpose((*act_)((*in_proj_)((*ln_)(x))), 1, 2);
}

Tensor CausalConvBlock::finish(const Tensor& x, const Tensor& c) {
  Tensor y = (*out_proj_)((*act_)(transpose(c, 1, 2)));
  return x + (dropout_ ? (*dropout_)(y) : y);
}

Tensor CausalConvBlock::forward(const Tensor& x) {
  check_shape(x);
  return finish(x, slice((*conv_)(conv_input(x)), 2, 0, x.size(1)));
}

Tensor CausalConvBlock::forward_step(const Tensor& x, StepCache& cache) {
  check_shape(x);
  const Tensor h = conv_input(x);  // [B, C, t]
  const int64_t keep = conv_->weight().size(2) - 1;
  if (keep == 0) return finish(x, (*conv_)(h));  // kernel 1: no padding, nothing to keep
  if (!cache.window.defined())
    cache.window = zeros({h.size(0), h.size(1), keep}, {.dtype = h.dtype(), .device = h.device()});
  check(cache.window.size(0) == x.size(0), describe(), ": forward_step input ", x.shape(),
        " has another batch size than the cached window ", cache.window.shape());
  // The window and the new inputs, convolved without padding: exactly the t causal outputs.
  const Tensor span = cat({cache.window, h}, 2);
  const Tensor c = conv1d(span, conv_->weight(), conv_->bias(), 1, 0, 1, conv_->options().groups);
  cache.window = narrow(span, 2, span.size(2) - keep, keep);
  return finish(x, c);
}

std::shared_ptr<CausalLM> HybridLM(const HybridLMOptions& o) {
  const GPTOptions& lm = o.lm;
  check(o.conv_layers >= 0 && lm.n_layers >= 0, "HybridLM: conv_layers and lm.n_layers must be non-negative");
  auto body = std::make_shared<Sequential>();
  for (int64_t i = 0; i < o.conv_layers; ++i)
    body->push_back(std::make_shared<CausalConvBlock>(lm.d_model, o.conv_kernel, o.conv_expansion, o.depthwise,
                                                      lm.activation, lm.dropout));
  for (int64_t i = 0; i < lm.n_layers; ++i) body->push_back(std::make_shared<TransformerBlock>(gpt_block_options(lm)));
  return std::make_shared<CausalLM>("HybridLM", lm, body, "conv_layers=" + std::to_string(o.conv_layers));
}

}  // namespace ember::nn
