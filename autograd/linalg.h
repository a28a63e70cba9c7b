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
// Operands must share dtype and device; transposed views are used without copying.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace ember
