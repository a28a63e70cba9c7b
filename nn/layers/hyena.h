#pragma once
// The Hyena operator (Poli et al. 2023, "Hyena Hierarchy", arXiv 2302.10866), after the safari
// reference (HyenaOperator, HyenaFilter): gates and long convolutions whose filters are implicit,
// an FFN of positional features, so the parameter count does not grow with the filter length.
#include "nn/layers/step.h"
#include "nn/module.h"

namespace ember::nn {

struct HyenaOptions {
  int64_t order = 2;          // N: long convolutions, each followed by a gate
  int64_t filter_width = 64;  // the filter FFN's hidden width (the reference's filter_order)
  int64_t filter_depth = 2;   // hidden Linear + Sin layers after the first (num_inner_mlps)
  int64_t emb_dim = 3;        // positional features: t, then (emb_dim - 1) / 2 cosine and sine bands
  double w = 1;               // initial frequency of the Sin activations
  double dropout = 0;         // on each gated output, while training
  // ExponentialModulation: channel i decays as exp(-t |delta_i|), t in [0, 1], with deltas spread
  // linearly from log(target) / slow_decay_pct to log(target) / fast_decay_pct.
  double fast_decay_pct = 0.3, slow_decay_pct = 1.5, target = 1e-2, shift = 0;
};

// sin(freq * x) with a trainable frequency per feature (last dim), initialised to w.
class Sin : public Module {
 public:
  Sin(int64_t dim, double w);
  Tensor forward(const Tensor& x) override;
  const Tensor& freq() const { return freq_; }

 private:
  Tensor freq_;
};

// The filter FFN's input for positions 0 .. seq_len - 1: z = [t, cos(f_j w), -sin(f_j w)] with t
// in [0, 1], w = 2 pi position / seq_len and bands f_j = linspace(1e-4, bands - 1, bands), the
// real and imaginary parts of exp(-i f w). z is trainable, as in the reference (which gives it
// its own small learning rate); t is a buffer.
class PositionalEmbedding : public Module {
 public:
  PositionalEmbedding(int64_t emb_dim, int64_t seq_len);
  Tensor z(int64_t length) const;  // [length, emb_dim]
  Tensor t(int64_t length) const;  // [length, 1]

 private:
  Tensor z_, t_;
};

// h [L, C] * (exp(-t |deltas|) + shift): the filters fade along t, channel by channel at its
// own rate (deltas [C] is a buffer).
class ExponentialModulation : public Module {
 public:
  ExponentialModulation(int64_t channels, const HyenaOptions& o);
  Tensor modulate(const Tensor& t, const Tensor& h) const;

 private:
  double shift_;
  Tensor deltas_;
};

// The implicit long filters: Linear(emb_dim, width), Sin, [Linear(width, width), Sin] x depth,
// Linear(width, channels, no bias), one Sin module (one set of frequencies) shared by all
// layers as in the reference, then the exponential modulation. bias [C] (random normal) is each
// channel's skip term D of the convolution.
class HyenaFilter : public Module {
 public:
  HyenaFilter(int64_t channels, int64_t seq_len, const HyenaOptions& o);
  Tensor filter(int64_t length);  // h [length, channels]
  const Tensor& bias() const { return bias_; }

 private:
  std::shared_ptr<PositionalEmbedding> pos_emb_;
  ModulePtr implicit_filter_;
  std::shared_ptr<ExponentialModulation> modulation_;
  Tensor bias_;
};

// [B, L, d] -> [B, L, d] for L <= l_max:
//   x_1 .. x_N, v = split(causal depthwise conv3(in_proj(u)))      (N + 1 blocks of d channels)
//   for n = 1 .. N:  v = dropout(x_n * fft_conv(v, h_n, bias_n))   (the paper's recurrence)
//   y = out_proj(v)
// The filters h_n [d, L] are the blocks of HyenaFilter(N d).filter(L). The reference code runs
// N - 1 convolutions for order N, gating before each and finally by x_1; this keeps the paper's
// form, N convolutions with a gate after each.
// Stepping (nn/layers/step.h) keeps the operator's whole input and recomputes the operator over
// it for every chunk, returning the new positions: exact, but each step costs a forward over the
// prefix. (Its recurrent state would be the short filter's last 2 inputs and every past input
// of each long convolution.)
class HyenaOperator : public Module, public CausalStep {
 public:
  HyenaOperator(int64_t d_model, int64_t l_max, HyenaOptions options = {});
  Tensor forward(const Tensor& u) override;
  Tensor forward_step(const Tensor& u, StepCache& cache) override;
  const HyenaFilter& filter_fn() const { return *filter_fn_; }

 private:
  int64_t d_model_, l_max_;
  HyenaOptions options_;
  ModulePtr in_proj_, short_filter_, out_proj_;
  std::shared_ptr<HyenaFilter> filter_fn_;
};

}  // namespace ember::nn
