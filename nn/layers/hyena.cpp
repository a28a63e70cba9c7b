#include "nn/layers/hyena.h"

#include <cmath>
#include <memory>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/elementwise.h"
#include "autograd/fft_conv.h"
#include "autograd/functional.h"
#include "autograd/index_ops.h"
#include "autograd/shape_ops.h"
#include "autograd/unary.h"
#include "nn/layers/conv.h"
#include "nn/layers/linear.h"
#include "nn/layers/support.h"
#include "nn/sequential.h"
#include "tensor/creation.h"

namespace ember::nn {
namespace {

// torch.linspace(lo, hi, steps)[i]: lo alone when steps == 1.
double linspace_at(double lo, double hi, int64_t steps, int64_t i) {
  return steps > 1 ? lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(steps - 1) : lo;
}

std::string named(const char* name, double value) {
  std::ostringstream os;
  os << name << "=" << value;
  return os.str();
}

}  // namespace

Sin::Sin(int64_t dim, double w) : Module(describe_call("Sin", dim, named("w", w))) {
  check_positive(describe(), {dim});
  freq_ = register_parameter("freq", full({dim}, w));
}

Tensor Sin::forward(const Tensor& x) { return sin(freq_ * x); }

PositionalEmbedding::PositionalEmbedding(int64_t emb_dim, int64_t seq_len)
    : Module(describe_call("PositionalEmbedding", emb_dim, seq_len)) {
  check_positive(describe(), {emb_dim, seq_len});
  check(emb_dim >= 3 && emb_dim % 2 == 1, describe(), ": emb_dim must be odd and at least 3 (time, cosine, sine)");
  const int64_t bands = (emb_dim - 1) / 2;
  std::vector<double> z(static_cast<size_t>(seq_len * emb_dim)), t(static_cast<size_t>(seq_len));
  for (int64_t i = 0; i < seq_len; ++i) {
    const double time = linspace_at(0, 1, seq_len, i);
    const double w = 2 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(seq_len);
    double* row = &z[static_cast<size_t>(i * emb_dim)];
    row[0] = t[static_cast<size_t>(i)] = time;
    for (int64_t j = 0; j < bands; ++j) {
      const double f = linspace_at(1e-4, static_cast<double>(bands - 1), bands, j);
      row[1 + j] = std::cos(f * w);
      row[1 + bands + j] = -std::sin(f * w);
    }
  }
  z_ = register_parameter("z", from_vector<double>(z, {seq_len, emb_dim}, {.dtype = DType::F32}));
  t_ = register_buffer("t", from_vector<double>(t, {seq_len, 1}, {.dtype = DType::F32}));
}

Tensor PositionalEmbedding::z(int64_t length) const { return slice(z_, 0, 0, length); }
Tensor PositionalEmbedding::t(int64_t length) const { return slice(t_, 0, 0, length); }

ExponentialModulation::ExponentialModulation(int64_t channels, const HyenaOptions& o)
    : Module(describe_call("ExponentialModulation", channels)), shift_(o.shift) {
  check_positive(describe(), {channels});
  check(o.fast_decay_pct > 0 && o.slow_decay_pct > 0 && o.target > 0 && o.target < 1, describe(),
        ": decay percentages must be positive and the target in (0, 1)");
  const double max_decay = std::log(o.target) / o.fast_decay_pct, min_decay = std::log(o.target) / o.slow_decay_pct;
  std::vector<double> deltas(static_cast<size_t>(channels));
  for (int64_t i = 0; i < channels; ++i) deltas[static_cast<size_t>(i)] = linspace_at(min_decay, max_decay, channels, i);
  deltas_ = register_buffer("deltas", from_vector<double>(deltas, {channels}, {.dtype = DType::F32}));
}

Tensor ExponentialModulation::modulate(const Tensor& t, const Tensor& h) const {
  return h * (exp(-(t * abs(deltas_))) + shift_);
}

HyenaFilter::HyenaFilter(int64_t channels, int64_t seq_len, const HyenaOptions& o)
    : Module(describe_call("HyenaFilter", channels, "seq_len=" + std::to_string(seq_len))) {
  check_positive(describe(), {channels, seq_len, o.filter_width});
  check(o.filter_depth >= 0, describe(), ": filter_depth must be non-negative");
  pos_emb_ = register_module("pos_emb", std::make_shared<PositionalEmbedding>(o.emb_dim, seq_len));
  auto act = std::make_shared<Sin>(o.filter_width, o.w);
  auto ffn = std::make_shared<Sequential>();
  ffn->push_back(std::make_shared<Linear>(o.emb_dim, o.filter_width)).push_back(act);
  for (int64_t i = 0; i < o.filter_depth; ++i)
    ffn->push_back(std::make_shared<Linear>(o.filter_width, o.filter_width)).push_back(act);
  ffn->push_back(std::make_shared<Linear>(o.filter_width, channels, false));
  implicit_filter_ = register_module("implicit_filter", ffn);
  modulation_ = register_module("modulation", std::make_shared<ExponentialModulation>(channels, o));
  bias_ = register_parameter("bias", randn({channels}));
}

Tensor HyenaFilter::filter(int64_t length) {
  return modulation_->modulate(pos_emb_->t(length), (*implicit_filter_)(pos_emb_->z(length)));
}

HyenaOperator::HyenaOperator(int64_t d_model, int64_t l_max, HyenaOptions options)
    : Module(describe_call("HyenaOperator", d_model, "l_max=" + std::to_string(l_max),
                           "order=" + std::to_string(options.order))),
      d_model_(d_model),
      l_max_(l_max),
      options_(options) {
  check_positive(describe(), {d_model, l_max, options.order});
  check(options.dropout >= 0 && options.dropout <= 1, describe(), ": dropout must be in [0, 1]");
  const int64_t inner = d_model * (options.order + 1);
  in_proj_ = register_module("in_proj", std::make_shared<Linear>(d_model, inner));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(d_model, d_model));
  short_filter_ = register_module("short_filter",
                                  std::make_shared<Conv1d>(inner, inner, 3, ConvOptions{.padding = 2, .groups = inner}));
  filter_fn_ = register_module("filter_fn", std::make_shared<HyenaFilter>(d_model * options.order, l_max, options));
}

Tensor HyenaOperator::forward(const Tensor& u) {
  check(u.dim() == 3 && u.size(2) == d_model_, describe(), ": input ", u.shape(), " must be [B, L, ", d_model_, "]");
  const int64_t length = u.size(1), d = d_model_;
  check(length >= 1 && length <= l_max_, describe(), ": input ", u.shape(), " has length ", length,
        ", outside 1 .. l_max = ", l_max_);
  Tensor z = transpose((*in_proj_)(u), 1, 2);  // [B, (N + 1) d, L]
  // Padded by 2 on both sides, the first L outputs of the kernel-3 convolution are the causal ones.
  z = slice((*short_filter_)(z), 2, 0, length);
  const std::vector<Tensor> blocks = split(z, d, 1);
  const Tensor h = transpose(filter_fn_->filter(length), 0, 1);  // [N d, L]
  const Tensor& bias = filter_fn_->bias();
  Tensor v = blocks.back();
  for (int64_t n = 0; n < options_.order; ++n) {
    const Tensor gated = blocks[static_cast<size_t>(n)] * fft_conv(v, slice(h, 0, n * d, (n + 1) * d),
                                                                   slice(bias, 0, n * d, (n + 1) * d));
    v = dropout(gated, options_.dropout, is_training());
  }
  return (*out_proj_)(transpose(v, 1, 2));
}

Tensor HyenaOperator::forward_step(const Tensor& u, StepCache& cache) {
  check(u.dim() == 3 && u.size(2) == d_model_, describe(), ": input ", u.shape(), " must be [B, L, ", d_model_, "]");
  if (cache.inputs.defined())
    check(cache.inputs.size(0) == u.size(0), describe(), ": forward_step input ", u.shape(),
          " has another batch size than the cached inputs ", cache.inputs.shape());
  const Tensor inputs = cache.inputs.defined() ? cat({cache.inputs, u}, 1) : u;
  const int64_t length = inputs.size(1);
  const Tensor y = slice(forward(inputs), 1, length - u.size(1), length);
  cache.inputs = inputs;
  return y;
}

}  // namespace ember::nn
