#pragma once
// The attention path for f32 and f64 on cuBLAS (attention_gemm.cu), behind CudaBackend::attention
// and attention_backward (attention.cu), which check the arguments first.
#include "backends/backend.h"
#include "tensor/tensor.h"

namespace ember::cuda::attention {

// Whether the GEMM path takes the problem: f32 or f64 with D, Dv and Tk all non-zero.
bool gemm_path(const Tensor& q, const Tensor& k, const Tensor& v);

// out ([B,H,Tq,Dv], any strides with unit-stride rows, written in place) and lse (contiguous
// [B,H,Tq]), as Backend::attention. Heads no single stride steps through (interleaved heads) go
// through per-head pointer arrays; `backend` copies only what cuBLAS cannot address in place
// (overlapping rows, or f32 heads off 16 bytes).
void gemm_forward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                  const Backend::AttentionParams& p, const Tensor& out, const Tensor& lse);

// gq, gk, gv (shaped as q, k, v, any strides with unit-stride rows, written in place) from gout,
// the forward's lse and delta = rowsum(dO o O) ([B H Tq], compute type), as
// Backend::attention_backward.
void gemm_backward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                   const Tensor& gout, const Tensor& lse, const Tensor& delta, const Backend::AttentionParams& p,
                   const Tensor& gq, const Tensor& gk, const Tensor& gv);

}  // namespace ember::cuda::attention
