#pragma once
// Batch and group normalisation over NC... tensors, composed from differentiable ops.
#include "tensor/tensor.h"

namespace ember {

// Normalises each channel (dim 1) of x [N,C,...], then scales by weight [C] and shifts by bias
// [C] (either may be undefined). With `training`, or without running stats, the statistics are
// the batch's mean and biased variance; with `training` the running stats [C] (if defined) are
// then updated in place as r = (1 - momentum) r + momentum s, with the unbiased variance
// (PyTorch's semantics). Otherwise running_mean / running_var are used.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);

// Splits the channels of x [N,C,...] into num_groups groups and normalises each (sample, group)
// over its channels and positions, then applies the per-channel weight / bias [C] if defined.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

}  // namespace ember
