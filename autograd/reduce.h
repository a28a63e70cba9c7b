#pragma once
// Differentiable reductions over any set of dims (negative dims count from the end).
#include "tensor/tensor.h"

namespace ember {

Tensor sum(const Tensor& x);  // over all elements, a 0-d tensor
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

// Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` to g's shape).
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace ember
