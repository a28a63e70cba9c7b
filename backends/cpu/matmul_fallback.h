#pragma once
// The portable matmul: register-tiled OpenMP loops. CpuBackend::matmul uses it for f64 and bf16
// and in builds without oneDNN; it has its own header so that the backend tests can check it
// against oneDNN on the same inputs even where oneDNN is present.
#include "tensor/tensor.h"

namespace ember::cpu {

// out[b] = a[b] @ c[b] for a [B,M,K], c [B,K,N], out [B,M,N] of one floating dtype, with any
// strides (stride 0 included) on all three; accumulates in compute_t (float for bf16).
void matmul_fallback(const Tensor& a, const Tensor& c, const Tensor& out);

}  // namespace ember::cpu
