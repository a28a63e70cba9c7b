#pragma once
// Differentiable reductions over any set of dims (negative dims count from the end; an empty
// list means every dim). With keepdim the reduced dims stay as size-1 dims.
#include "tensor/tensor.h"

namespace ember {

Tensor sum(const Tensor& x);  // over all elements, a 0-d tensor
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

// The largest / smallest values (NaN if any element is NaN). The gradient flows to the
// positions equal to the extremum, split evenly among ties (as torch.amax / amin).
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

// The index (i64) of the first largest / smallest element along dim; a NaN counts as the
// extremum. Not differentiable.
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);

// PyTorch's integer `correction`: the sum of squared deviations is divided by n - correction
// (0: the population variance, 1: Bessel's). A struct, so that var(x, dims, 2) cannot be
// mistaken for the bool overload: write var(x, dims, Correction{2}).
struct Correction {
  int64_t value = 1;
};

// Variance and standard deviation; unbiased divides by n - 1 (Bessel's correction) instead of n.
// Computed by a shifted, compensated two-pass algorithm: the variance of a constant slice is
// exactly 0. stddev's gradient is 0 where the result is 0 (PyTorch's choice), not NaN.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased = true, bool keepdim = false);
Tensor stddev(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased = true, bool keepdim = false);
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, Correction correction, bool keepdim = false);
Tensor stddev(const Tensor& x, const std::vector<int64_t>& dims, Correction correction, bool keepdim = false);

// log(sum(exp(x))), computed without overflow.
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

// Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` to g's shape).
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace ember
