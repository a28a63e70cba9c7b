#pragma once
// Differentiable elementwise math and activations, and the selections (maximum, minimum,
// where, masked_fill). Binary forms broadcast by NumPy's rules.
#include "tensor/tensor.h"

namespace ember {

// Math (floating inputs).
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);  // log(1 + x), accurate for small x (torch.log1p)
Tensor expm1(const Tensor& x);  // exp(x) - 1, accurate for small x (torch.expm1)
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);  // 1 / sqrt(x)
Tensor abs(const Tensor& x);    // gradient sign(x): 0 at 0
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor pow(const Tensor& base, const Tensor& exponent);

// Activations.
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);  // gradient 0 at 0
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// x * Phi(x); with tanh_approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
Tensor gelu(const Tensor& x, bool tanh_approximation = false);
Tensor silu(const Tensor& x);      // x * sigmoid(x)
Tensor softplus(const Tensor& x);  // log(1 + exp(x)), exact for every x (no linear cut-off)
// PyTorch's softplus(x, beta, threshold): log(1 + exp(beta x)) / beta, and x itself where
// beta x > threshold (PyTorch's defaults are beta 1, threshold 20). The gradient is
// sigmoid(beta x), and 1 past the threshold. beta must be positive.
Tensor softplus(const Tensor& x, double beta, double threshold = 20.0);

// min(max(x, lo), hi), lo <= hi (either may be infinite). The gradient is 1 on the closed
// interval [lo, hi] (at x == lo and x == hi too, as in PyTorch) and 0 outside it and at NaN.
Tensor clamp(const Tensor& x, double lo, double hi);
// pow(base, exponent), maximum, minimum and where promote floating operands of different
// dtypes to the wider one, as the arithmetic ops do (autograd/elementwise.h).
// On ties the gradient is split half and half between a and b, as PyTorch does.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// cond ? a : b, with bool cond; cond, a and b broadcast together. Differentiable in a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// x with `value` where the bool mask (broadcast to x's shape) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace ember
