#pragma once
// Inverse matrix roots for Shampoo's preconditioners.
#include "tensor/tensor.h"

namespace ember {

// (A + eps I)^(-1/root) of a symmetric positive semi-definite [n, n] matrix A, computed in f64
// on the host from A's eigendecomposition (LAPACK dsyevd) as Q diag((l + eps)^(-1/root)) Q^T.
// Negative eigenvalues are rounding noise of a PSD matrix and count as 0. The result has A's
// dtype and device; non-finite entries throw.
Tensor inverse_root(const Tensor& a, int root, double eps);

}  // namespace ember
