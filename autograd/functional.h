#pragma once
// Differentiable normalisations and regularisers: softmax, log-softmax, layer norm (fused
// kernels with dedicated backward kernels) and dropout. Losses live in autograd/losses.h.
#include "tensor/tensor.h"

namespace ember {

// exp(x) / sum(exp(x)) along `dim`, and its logarithm computed stably.
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

// Normalises over the trailing dims given by normalized_shape (biased variance, as PyTorch),
// then scales by weight and shifts by bias, each of normalized_shape when given.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

// In training, zeroes each element with probability p (0 <= p <= 1) and scales the kept ones by
// 1 / (1 - p); the draw comes from the global generator (manual_seed makes it repeatable).
// An element is kept when its uniform (0, 1] draw u satisfies u > p. Identity otherwise.
Tensor dropout(const Tensor& x, double p, bool training);

}  // namespace ember
