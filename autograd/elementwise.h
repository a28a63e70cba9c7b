#pragma once
// Differentiable elementwise ops with NumPy broadcasting, and the in-place ops optimizers use.
#include "tensor/tensor.h"

namespace ember {

// Arithmetic (broadcasting; operands must share device). Floating operands of different dtypes
// promote to the wider (bf16 < f32 < f64; autograd/autocast.h); other dtypes must match.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
// x * alpha + beta in one pass (the scalar forms of + - * / use it).
Tensor affine(const Tensor& x, double alpha, double beta);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(const Tensor& a, double s);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(const Tensor& a, double s);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(const Tensor& a, double s);
Tensor operator/(double s, const Tensor& a);

// Comparisons: bool results, not differentiable; floating operands promote as above.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

// In place, on the tensor's storage; they bump its version counter. They refuse tensors
// that require grad while recording (use NoGradGuard, as optimizers do). A floating `other` of
// another dtype is converted to self's.
const Tensor& add_(const Tensor& self, const Tensor& other, double alpha = 1.0);  // self += alpha * other
const Tensor& mul_(const Tensor& self, double s);
const Tensor& mul_(const Tensor& self, const Tensor& other);
const Tensor& zero_(const Tensor& self);
const Tensor& fill_(const Tensor& self, double value);
const Tensor& copy_(const Tensor& self, const Tensor& src);  // src broadcasts to self's shape

}  // namespace ember
