#pragma once
// MultiHeadAttention: self-attention over [B, T, d] through the fused
// scaled_dot_product_attention kernel (autograd/attention.h).
#include <array>

#include "nn/layers/linear.h"
#include "nn/layers/step.h"

namespace ember::nn {

// One fused projection qkv = Linear(d, 3d) holds the queries', keys' and values' weights; each
// is projected by its rows of it and viewed as [B, H, T, d / H] without copying (the kernel
// reads strided heads), attended, merged back to
// [B, T, d] and projected by out_proj = Linear(d, d). dropout drops attention probabilities
// while training, as torch.nn.MultiheadAttention does.
// Causal attention also steps (nn/layers/step.h): the cache holds every position's keys and
// values, the new queries attend over all of them, causally within the new chunk.
class MultiHeadAttention : public Module, public CausalStep {
 public:
  MultiHeadAttention(int64_t d_model, int64_t n_heads, bool causal = false, double dropout = 0, bool bias = true);
  Tensor forward(const Tensor& x) override;
  // mask: bool, broadcastable to [B, H, T, T], true = attend; combined with causal.
  Tensor forward(const Tensor& x, const Tensor& mask);
  // Causal attention only.
  Tensor forward_step(const Tensor& x, StepCache& cache) override;

  int64_t n_heads() const { return n_heads_; }
  bool causal() const { return causal_; }
  const Linear& qkv() const { return *qkv_; }
  const Linear& out_proj() const { return *out_proj_; }

 private:
  int64_t d_model_, n_heads_;
  bool causal_;
  double dropout_;
  std::shared_ptr<Linear> qkv_, out_proj_;

  void check_shape(const Tensor& x) const;
  // Queries, keys and values of x [B, T, d], each [B, H, T, d / H] (views).
  std::array<Tensor, 3> project(const Tensor& x) const;
  // Attention output [B, H, T, d / H] -> out_proj of the merged heads [B, T, d].
  Tensor merge(const Tensor& y) const;
};

}  // namespace ember::nn
