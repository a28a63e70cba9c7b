#pragma once
// Scaled dot-product attention, fused in the style of flash attention: softmax(scale q k^T) v
// with masking and dropout, forward and backward, without forming the [Tq, Tk] score matrix.
#include "tensor/tensor.h"

namespace ember {

// q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv] with the same leading (batch, head) dims give
// [..., Tq, Dv]. Operands may be non-contiguous views (e.g. the transpose of [B, T, H, D]).
// - causal: query i attends to keys j <= i, PyTorch's top-left alignment (tril(ones(Tq, Tk))).
//   With Tq > Tk the rows i >= Tk see every key; with Tq < Tk row i sees only the first i + 1
//   keys (not the bottom-right alignment of decoding against a longer key cache).
// - mask: bool, broadcastable to [..., Tq, Tk], true = attend (PyTorch's bool attn_mask); it is
//   combined with causal. A query row that attends to no key outputs 0 and passes no gradient
//   (where composing softmax by hand would give NaN).
// - dropout_p: while training, each attention probability is dropped with probability
//   dropout_p and the kept ones are scaled by 1 / (1 - dropout_p). The mask comes from the
//   global generator (manual_seed makes it repeatable), element ((b H + h) Tq + i) Tk + j of one
//   Philox stream, and the backward regenerates it instead of storing it.
// - scale multiplies q k^T; 0 means 1 / sqrt(D).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal = false,
                                    const Tensor& mask = {}, double dropout_p = 0.0, bool training = true,
                                    double scale = 0);

}  // namespace ember
