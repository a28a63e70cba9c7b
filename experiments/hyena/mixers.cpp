#include "experiments/hyena/mixers.h"


#include "autograd/elementwise.h"
#include "autograd/fft_conv.h"
#include "autograd/index_ops.h"
#include "autograd/shape_ops.h"
#include "nn/layers/conv.h"
#include "nn/layers/linear.h"
#include "nn/sequential.h"
#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::hyena {

namespace {
std::string mixer_name(const ConvMixerOptions& o) {
  return std::string("ConvMixer(") + (o.gated ? "gated" : "ungated") + ", " + (o.explicit_filter ? "explicit" : "implicit") +
         " filters, order=" + std::to_string(o.order) + ")";
}
}  // namespace

ConvMixer::ConvMixer(int64_t d_model, int64_t l_max, ConvMixerOptions options)
    : nn::Module(mixer_name(options)), d_model_(d_model), l_max_(l_max), options_(options) {
  check(d_model > 0 && l_max > 0 && options.order > 0, describe(), ": d_model, l_max and order must be positive, got ",
        d_model, ", ", l_max, ", ", options.order);
  const int64_t inner = options.gated ? d_model * (options.order + 1) : d_model;
  const int64_t channels = d_model * options.order;
  in_proj_ = register_module("in_proj", std::make_shared<nn::Linear>(d_model, inner));
  out_proj_ = register_module("out_proj", std::make_shared<nn::Linear>(d_model, d_model));
  short_filter_ = register_module(
      "short_filter", std::make_shared<nn::Conv1d>(inner, inner, 3, nn::ConvOptions{.padding = 2, .groups = inner}));
  if (options.explicit_filter) {
    // Small random filters (our choice): the convolution starts near its skip term.
    explicit_ = register_parameter("filters", randn({channels, l_max}) * 0.02);
    bias_ = register_parameter("bias", randn({channels}));
  } else {
    implicit_ = register_module("filter_fn", std::make_shared<nn::HyenaFilter>(channels, l_max, options.implicit));
    bias_ = implicit_->bias();
  }
}

Tensor ConvMixer::filters(int64_t length) {
  return options_.explicit_filter ? slice(explicit_, 1, 0, length) : transpose(implicit_->filter(length), 0, 1);
}

Tensor ConvMixer::forward(const Tensor& u) {
  check(u.dim() == 3 && u.size(2) == d_model_, describe(), ": input ", u.shape(), " must be [B, L, ", d_model_, "]");
  const int64_t length = u.size(1), d = d_model_;
  check(length <= l_max_, describe(), ": input length ", length, " exceeds l_max = ", l_max_);
  Tensor z = transpose(in_proj_->forward(u), 1, 2);
  z = slice(short_filter_->forward(z), 2, 0, length);  // the causal outputs of the padded kernel-3 convolution
  const Tensor h = filters(length);
  std::vector<Tensor> blocks = options_.gated ? split(z, d, 1) : std::vector<Tensor>{z};
  Tensor v = blocks.back();
  for (int64_t n = 0; n < options_.order; ++n) {
    v = fft_conv(v, slice(h, 0, n * d, (n + 1) * d), slice(bias_, 0, n * d, (n + 1) * d));
    if (options_.gated) v = blocks[static_cast<size_t>(n)] * v;
  }
  return out_proj_->forward(transpose(v, 1, 2));
}

const std::vector<std::string>& sequence_model_kinds() {
  static const std::vector<std::string> kinds = {"hyena", "attention", "longconv", "hyena-explicit"};
  return kinds;
}

std::shared_ptr<nn::CausalLM> sequence_model(const std::string& kind, nn::GPTOptions o) {
  if (kind == "attention") return nn::GPT(o);
  o.position_embedding = false;
  if (kind == "hyena") return nn::HyenaLM(o);
  check(kind == "longconv" || kind == "hyena-explicit", "sequence_model: unknown kind '", kind,
        "' (hyena, attention, longconv, hyena-explicit)");
  const ConvMixerOptions mixer{.order = o.hyena.order, .gated = kind != "longconv",
                               .explicit_filter = kind == "hyena-explicit", .implicit = o.hyena};
  auto body = std::make_shared<nn::Sequential>();
  for (int64_t i = 0; i < o.n_layers; ++i)
    body->push_back(std::make_shared<nn::TransformerBlock>(nn::gpt_block_options(o),
                                                           std::make_shared<ConvMixer>(o.d_model, o.context_length, mixer)));
  return std::make_shared<nn::CausalLM>(kind == "longconv" ? "LongConvLM" : "HyenaExplicitLM", o, body, mixer_name(mixer));
}

}  // namespace ember::hyena
