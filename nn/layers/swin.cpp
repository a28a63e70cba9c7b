#include "nn/layers/swin.h"

#include <string>

#include "autograd/index_ops.h"
#include "autograd/shape_ops.h"
#include "nn/layers/support.h"
#include "nn/layers/windows.h"

namespace ember::nn {

ShiftedWindowAttention::ShiftedWindowAttention(int64_t d_model, int64_t n_heads, int64_t height, int64_t width,
                                               int64_t window, int64_t shift)
    : Module(describe_call("ShiftedWindowAttention", d_model, "heads=" + std::to_string(n_heads),
                           "map=" + std::to_string(height) + "x" + std::to_string(width),
                           "window=" + std::to_string(window), "shift=" + std::to_string(shift))),
      d_model_(d_model),
      height_(height),
      width_(width),
      window_(window),
      shift_(shift) {
  check_positive(describe(), {d_model, n_heads, height, width, window});
  check(height % window == 0 && width % window == 0, describe(), ": a ", window, "x", window,
        " window does not divide the ", height, "x", width, " feature map");
  check(shift >= 0 && shift < window, describe(), ": shift ", shift, " must be in [0, window = ", window, ")");
  attn_ = register_module("attn", std::make_shared<RelativeAttention>(d_model, n_heads, window, window));
  if (shift > 0) mask_ = register_buffer("mask", shifted_window_mask(height, width, window, shift));
}

Tensor ShiftedWindowAttention::forward(const Tensor& x) {
  check(x.dim() == 3 && x.size(1) == height_ * width_ && x.size(2) == d_model_, describe(), ": input ", x.shape(),
        " must be [B, ", height_ * width_, ", ", d_model_, "]");
  Tensor map = reshape(x, {x.size(0), height_, width_, d_model_});
  if (shift_ > 0) map = cyclic_shift(map, -shift_, -shift_);
  const Tensor windows = attn_->forward(window_partition(map, window_), mask_);
  map = window_merge(windows, window_, height_, width_);
  if (shift_ > 0) map = cyclic_shift(map, shift_, shift_);
  return reshape(map, {x.size(0), height_ * width_, d_model_});
}

PatchMerging::PatchMerging(int64_t channels, int64_t height, int64_t width)
    : Module(describe_call("PatchMerging", channels, "map=" + std::to_string(height) + "x" + std::to_string(width))),
      channels_(channels),
      height_(height),
      width_(width) {
  check_positive(describe(), {channels, height, width});
  check(height % 2 == 0 && width % 2 == 0, describe(), ": the ", height, "x", width,
        " feature map must have even sides to merge 2x2 patches");
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{4 * channels}));
  reduction_ = register_module("reduction", std::make_shared<Linear>(4 * channels, 2 * channels, false));
}

Tensor PatchMerging::forward(const Tensor& x) {
  check(x.dim() == 3 && x.size(1) == height_ * width_ && x.size(2) == channels_, describe(), ": input ", x.shape(),
        " must be [B, ", height_ * width_, ", ", channels_, "]");
  const Tensor map = reshape(x, {x.size(0), height_, width_, channels_});
  auto part = [&](int64_t dy, int64_t dx) { return slice(slice(map, 1, dy, height_, 2), 2, dx, width_, 2); };
  const Tensor merged = cat({part(0, 0), part(1, 0), part(0, 1), part(1, 1)}, 3);  // [B, H/2, W/2, 4C]
  return reduction_->forward(norm_->forward(reshape(merged, {x.size(0), (height_ / 2) * (width_ / 2), 4 * channels_})));
}

}  // namespace ember::nn
