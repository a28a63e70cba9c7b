#pragma once
// Differentiable losses with PyTorch's semantics. Class losses take scores [N, C] (or
// [N, C, d1, ...], the class dim second) and i64 class indices [N] (or [N, d1, ...]); targets
// equal to ignore_index contribute nothing, and Mean divides by the number of the others.
#include "tensor/tensor.h"

namespace ember {

enum class Reduction { Mean, Sum, None };

// Softmax cross-entropy from logits, fused: the forward never materialises probabilities and
// the backward computes softmax - target on the fly. With label_smoothing s the target
// distribution is (1 - s) one-hot + s / C.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::Mean,
                     int64_t ignore_index = -100, double label_smoothing = 0.0);
// -log_probs[n, target[n]].
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction = Reduction::Mean,
                int64_t ignore_index = -100);
// (pred - target)^2; pred and target have the same shape.
Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::Mean);
// Binary cross-entropy of sigmoid(logits) against targets in [0, 1], computed stably as
// max(x, 0) - x y + log(1 + exp(-|x|)); logits and target have the same shape.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);

}  // namespace ember
