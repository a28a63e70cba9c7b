#include "nn/layers/transformer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "autograd/elementwise.h"
#include "autograd/shape_ops.h"
#include "nn/init.h"
#include "nn/layers/activation.h"
#include "nn/layers/attention.h"
#include "nn/layers/dropout.h"
#include "nn/layers/embedding.h"
#include "nn/layers/hyena.h"
#include "nn/layers/support.h"

namespace ember::nn {

FeedForward::FeedForward(int64_t d_model, int64_t hidden, const std::string& activation, bool bias)
    : Module(describe_call("FeedForward", d_model, hidden, activation)) {
  in_proj_ = register_module("in_proj", std::make_shared<Linear>(d_model, hidden, bias));
  act_ = register_module("act", Activation(activation));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(hidden, d_model, bias));
}

Tensor FeedForward::forward(const Tensor& x) { return (*out_proj_)((*act_)((*in_proj_)(x))); }

TransformerBlock::TransformerBlock(const TransformerBlockOptions& o, ModulePtr mixer)
    : Module(describe_call("TransformerBlock", o.d_model, mixer ? mixer->describe() : "heads=" + std::to_string(o.n_heads),
                           !mixer && o.causal ? "causal" : "")),
      d_model_(o.d_model) {
  check_positive(describe(), {o.d_model, o.n_heads});
  check(o.mlp_ratio > 0, describe(), ": mlp_ratio must be positive");
  check(o.dropout >= 0 && o.dropout <= 1, describe(), ": dropout must be in [0, 1]");
  const int64_t hidden = std::max<int64_t>(1, std::llround(o.mlp_ratio * static_cast<double>(o.d_model)));
  if (!mixer) mixer = std::make_shared<MultiHeadAttention>(o.d_model, o.n_heads, o.causal, o.dropout, o.bias);
  ln1_ = register_module("ln1", std::make_shared<LayerNorm>(Shape{o.d_model}));
  mixer_ = register_module("mixer", std::move(mixer));
  ln2_ = register_module("ln2", std::make_shared<LayerNorm>(Shape{o.d_model}));
  mlp_ = register_module("mlp", std::make_shared<FeedForward>(o.d_model, hidden, o.activation, o.bias));
  if (o.dropout > 0) dropout_ = register_module("dropout", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerBlock::finish(const Tensor& x, const Tensor& mixed) {
  const Tensor y = x + (dropout_ ? (*dropout_)(mixed) : mixed);
  const Tensor m = (*mlp_)((*ln2_)(y));
  return y + (dropout_ ? (*dropout_)(m) : m);
}

Tensor TransformerBlock::forward(const Tensor& x) {
  check(x.dim() == 3 && x.size(2) == d_model_, describe(), ": input ", x.shape(), " must be [B, T, ", d_model_, "]");
  return finish(x, (*mixer_)((*ln1_)(x)));
}

Tensor TransformerBlock::forward_step(const Tensor& x, StepCache& cache) {
  auto* mixer = dynamic_cast<CausalStep*>(mixer_.get());
  check(mixer != nullptr, describe(), ": its mixer ", mixer_->describe(), " cannot step (forward_step)");
  check(x.dim() == 3 && x.size(2) == d_model_, describe(), ": input ", x.shape(), " must be [B, T, ", d_model_, "]");
  return finish(x, mixer->forward_step((*ln1_)(x), cache));
}

std::shared_ptr<Sequential> transformer_blocks(int64_t n, const TransformerBlockOptions& options) {
  check(n >= 0, "transformer_blocks: the number of blocks must be non-negative, got ", n);
  auto blocks = std::make_shared<Sequential>();
  for (int64_t i = 0; i < n; ++i) blocks->push_back(std::make_shared<TransformerBlock>(options));
  return blocks;
}

PatchEmbed::PatchEmbed(int64_t in_channels, int64_t patch_size, int64_t d_model)
    : Module(describe_call("PatchEmbed", in_channels, "patch=" + std::to_string(patch_size), d_model)),
      in_channels_(in_channels),
      patch_size_(patch_size) {
  check_positive(describe(), {in_channels, patch_size, d_model});
  proj_ = register_module("proj", std::make_shared<Conv2d>(in_channels, d_model, patch_size,
                                                           ConvOptions{.stride = patch_size}));
}

Tensor PatchEmbed::forward(const Tensor& x) {
  check_input(describe(), x, 4, "[B, C, H, W]", in_channels_);
  check(x.size(2) % patch_size_ == 0 && x.size(3) % patch_size_ == 0, describe(), ": input ", x.shape(),
        ": height and width must be multiples of the patch size ", patch_size_);
  // [B, d, H/p, W/p] -> [B, d, N] -> [B, N, d], a view: the next op (adding positions) copies anyway.
  return transpose(flatten((*proj_)(x), 2), 1, 2);
}

namespace {

void init_children(Module& m, double std, double residual_std) {
  for (const auto& [name, child] : m.named_children()) {
    if (dynamic_cast<HyenaFilter*>(child.get())) continue;
    if (auto* linear = dynamic_cast<Linear*>(child.get())) {
      init::normal_(linear->weight(), 0, name == "out_proj" ? residual_std : std);
      if (linear->bias().defined()) init::zeros_(linear->bias());
    } else if (auto* embedding = dynamic_cast<Embedding*>(child.get())) {
      init::normal_(embedding->weight(), 0, std);
    }
    init_children(*child, std, residual_std);
  }
}

}  // namespace

void init_transformer_(Module& model, int64_t n_layers, double std) {
  check(std > 0, "init_transformer_: std must be positive, got ", std);
  init_children(model, std, n_layers > 0 ? std / std::sqrt(2.0 * static_cast<double>(n_layers)) : std);
}

}  // namespace ember::nn
