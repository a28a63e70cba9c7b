#pragma once
// The attention path for f32 and f64 on cuBLAS (attention_gemm.cu), behind CudaBackend::attention
// and attention_backward (attention.cu), which check the arguments first.
#include "backends/backend.h"
#include "tensor/tensor.h"

namespace ember::cuda::attention {

// Whether the GEMM path takes the problem: f32 or f64 with D, Dv and Tk all non-zero.
bool gemm_path(const Tensor& q, const Tensor& k, const Tensor& v);

// out (contiguous [B,H,Tq,Dv]) and lse (contiguous [B,H,Tq]), as Backend::attention. `backend`
// copies operands whose heads no single stride steps through.
void gemm_forward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                  const Backend::AttentionParams& p, const Tensor& out, const Tensor& lse);

// gq, gk, gv (contiguous, shaped as q, k, v) from gout, the forward's lse and
// delta = rowsum(dO o O) ([B H Tq], compute type), as Backend::attention_backward.
void gemm_backward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                   const Tensor& gout, const Tensor& lse, const Tensor& delta, const Backend::AttentionParams& p,
                   const Tensor& gq, const Tensor& gk, const Tensor& gv);

}  // namespace ember::cuda::attention
