#pragma once
// The token mixers of the operator comparison (the paper's ablations, Section 4.1 and Appendix
// A): Hyena itself is nn::HyenaOperator; these are its variants, written as one module so that
// only the named ingredient differs:
//   - gated = false: a long convolution without the multiplicative gates (the operator is then
//     linear in its input, a plain long convolution layer);
//   - explicit_filter = true: each long filter is a free parameter per position and channel
//     [order d, l_max] instead of the implicit FFN of positional features (the parameter count
//     grows with the length).
// Both keep Hyena's in/out projections, causal short convolution and skip term.
#include <memory>
#include <string>

#include "nn/layers/hyena.h"
#include "nn/models/gpt.h"

namespace ember::hyena {

struct ConvMixerOptions {
  int64_t order = 2;
  bool gated = true;
  bool explicit_filter = false;
  nn::HyenaOptions implicit = {};  // the implicit filter's settings (when !explicit_filter)
};

// [B, L, d] -> [B, L, d] for L <= l_max:
//   gated:   x_1 .. x_N, v = split(short_conv(in_proj(u)));  v = x_n * long_conv_n(v), n = 1 .. N
//   ungated: v = short_conv(in_proj(u));                      v = long_conv_n(v),       n = 1 .. N
//   y = out_proj(v)
class ConvMixer : public nn::Module {
 public:
  ConvMixer(int64_t d_model, int64_t l_max, ConvMixerOptions options);
  Tensor forward(const Tensor& u) override;

 private:
  Tensor filters(int64_t length);  // [order d, length]

  int64_t d_model_, l_max_;
  ConvMixerOptions options_;
  nn::ModulePtr in_proj_, short_filter_, out_proj_;
  std::shared_ptr<nn::HyenaFilter> implicit_;
  Tensor explicit_, bias_;  // explicit filters [order d, l_max] and the skip terms [order d]
};

// The sequence models compared by the recall study, all with the same skeleton (nn::CausalLM,
// pre-norm blocks with an MLP): "hyena" (nn::HyenaLM), "attention" (nn::GPT), "longconv"
// (ConvMixer, ungated, implicit filters) and "hyena-explicit" (ConvMixer, gated, explicit
// filters). The convolutional ones have no position embedding (their convolutions are
// position-aware), as the reference's models; attention needs one.
std::shared_ptr<nn::CausalLM> sequence_model(const std::string& kind, nn::GPTOptions options);
// The kinds sequence_model knows, in report order.
const std::vector<std::string>& sequence_model_kinds();

}  // namespace ember::hyena
