#pragma once
// Causal long convolution through FFTs: the core of the Hyena operator (Poli et al. 2023), a
// fused op whose forward and backward are backend kernels.
#include "tensor/tensor.h"

namespace ember {

// u [B, C, L] convolved causally along L with one filter per channel, k [C, K] (K <= L; a
// shorter filter is zero past K), plus the skip term D [C] (optional):
//   y[b, c, t] = sum_{s <= t} k[c, s] u[b, c, t - s] + D[c] u[b, c, t],   y [B, C, L].
// Any L works (the transforms are zero-padded to a fast length >= L + K - 1); operands may be
// non-contiguous views. Gradients flow to u, k and D; the backward is not itself differentiable.
Tensor fft_conv(const Tensor& u, const Tensor& k, const Tensor& D = {});

}  // namespace ember
