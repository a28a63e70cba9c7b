#pragma once
// The window bookkeeping of Swin (Liu et al. 2021) over channels-last feature maps
// [B, H, W, C]: cyclic shifts, partitioning into non-overlapping w x w windows and back, and
// the mask that keeps a shifted window from mixing regions that were not adjacent before the
// shift. All differentiable views and copies (slices, cat, reshape, permute).
#include "tensor/tensor.h"

namespace ember::nn {

// torch.roll over dims 1 and 2 of [B, H, W, C]: out[:, i, j] = x[:, (i - shift_h) mod H,
// (j - shift_w) mod W]. Negative shifts move content up / left, as Swin's shift before attention.
Tensor cyclic_shift(const Tensor& x, int64_t shift_h, int64_t shift_w);

// [B, H, W, C] -> [B nW, w w, C], nW = (H / w)(W / w): window (b, r, c) is row b nW + r (W / w)
// + c, its tokens row-major. H and W must be multiples of w (an ember::Error says which is not).
Tensor window_partition(const Tensor& x, int64_t window);
// The inverse: [B nW, w w, C] -> [B, H, W, C].
Tensor window_merge(const Tensor& windows, int64_t window, int64_t height, int64_t width);

// bool [nW, w w, w w], true = attend: after a cyclic shift by -shift, the map is cut into the
// 3 x 3 regions [0, H - w), [H - w, H - shift), [H - shift, H) (and likewise in W); tokens of
// one window attend to each other only within one region. shift = 0 gives all true.
Tensor shifted_window_mask(int64_t height, int64_t width, int64_t window, int64_t shift);

}  // namespace ember::nn
