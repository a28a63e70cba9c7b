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
// `weight` [C] weighs each class as PyTorch does: row n's loss is multiplied by w[target[n]],
// and Mean is sum(w_y l) / sum(w_y) over the rows not ignored (with label smoothing, the
// smoothing term is -sum_c w_c log p_c, divided by the same sum). Weighted, the loss is composed
// from log_softmax and nll_loss instead of the fused kernel.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::Mean,
                     int64_t ignore_index = -100, double label_smoothing = 0.0, const Tensor& weight = {});
// -log_probs[n, target[n]], times weight[target[n]] when a class weight [C] is given (Mean
// then divides by the sum of the weights of the rows kept). With every target ignored, Mean is
// NaN (0 / 0) and its gradient 0, as in PyTorch.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction = Reduction::Mean,
                int64_t ignore_index = -100, const Tensor& weight = {});
// (pred - target)^2; pred and target have the same shape.
Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::Mean);
// Binary cross-entropy of sigmoid(logits) against targets in [0, 1], computed stably as
// max(x, 0) - x y + log(1 + exp(-|x|)); logits and target have the same shape.
// pos_weight (PyTorch's, broadcast to the logits, e.g. [C] for the classes of the last dim)
// weighs the positive term: p y softplus(-x) + (1 - y) softplus(x).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean, const Tensor& pos_weight = {});

}  // namespace ember
