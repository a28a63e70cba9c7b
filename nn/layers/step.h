#pragma once
// Running a causal layer over a sequence one chunk at a time, as autoregressive decoding does:
// the layer keeps in a StepCache what later positions need of earlier ones, so a new chunk
// costs its own positions (plus, for attention, reading the cached keys and values) instead of
// the whole prefix again. Stepping is exact: chunk by chunk gives the full forward's outputs.
#include "tensor/tensor.h"

namespace ember::nn {

// What one block of a causal model keeps between steps; each layer uses its own fields and
// starts from an empty (default) cache.
struct StepCache {
  Tensor keys, values;  // MultiHeadAttention: [B, H, L, d / H] of the L positions so far
  Tensor window;        // CausalConvBlock: the last k - 1 inputs of its convolution [B, C, k - 1]
  Tensor inputs;        // HyenaOperator: its whole input so far [B, L, d] (it recomputes the prefix)
};

// A layer over [B, T, d] whose output at position t depends on positions <= t only.
class CausalStep {
 public:
  virtual ~CausalStep() = default;
  // x [B, t, d] holds the next t positions after those the cache has seen: their outputs
  // [B, t, d], as forward() over the whole sequence would give them. Appends x's positions to
  // the cache. Differentiable, like forward().
  virtual Tensor forward_step(const Tensor& x, StepCache& cache) = 0;
};

}  // namespace ember::nn
