#pragma once
// MobileViT's unfolding (Mehta & Rastegari 2021): a feature map is cut into p x p patches and
// regrouped so that pixel position k of every patch forms one sequence, across which a
// Transformer attends (each pixel sees the same position of all other patches; the local
// convolutions before it already mixed each patch's neighbourhood). Pure reshapes and
// permutes, so both directions are differentiable and fold(unfold(x)) == x exactly.
#include "tensor/tensor.h"

namespace ember::nn {

// [B, C, H, W] -> [B, p p, N, C] with N = (H / p)(W / p): out[b, i p + j, r (W / p) + c, ch]
// = x[b, ch, r p + i, c p + j]. H and W must be multiples of p (ember::Error otherwise).
Tensor unfold_patches(const Tensor& x, int64_t patch);
// The inverse: [B, p p, N, C] -> [B, C, H, W].
Tensor fold_patches(const Tensor& patches, int64_t patch, int64_t height, int64_t width);

}  // namespace ember::nn
