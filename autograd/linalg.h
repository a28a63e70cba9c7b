#pragma once
// Differentiable linear algebra.
#include "tensor/tensor.h"

namespace ember {

// The matrix product with NumPy's (and torch.matmul's) rules:
// - 1-D x 1-D is the dot product, a 0-d tensor;
// - a 1-D left operand is a row vector, a 1-D right operand a column vector, and that dim is
//   dropped from the result ([K] x [K,N] -> [N], [M,K] x [K] -> [M]);
// - N-D operands are stacks of matrices in their last two dims, and the leading (batch) dims
//   broadcast: [2,1,3,4] x [5,4,6] -> [2,5,3,6].
// Operands must share dtype and device; transposed views are used without copying. Under
// autocast (autograd/autocast.h) f32 operands are multiplied in the autocast dtype.
Tensor matmul(const Tensor& a, const Tensor& b);

// x @ weight^T + bias (torch.nn.functional.linear): x [..., in], weight [out, in], bias
// [out] or undefined. Under autocast all three are cast, so the result is in the autocast dtype.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace ember
