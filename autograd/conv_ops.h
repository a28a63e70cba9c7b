#pragma once
// Differentiable convolutions and pooling over NCHW tensors (conv1d: NCL). These are fused ops:
// their backward passes are dedicated backend kernels.
#include <array>
#include <optional>

#include "tensor/tensor.h"

namespace ember {

using Size2 = std::array<int64_t, 2>;  // (height, width)

// x [N,C,H,W], weight [O,C/groups,KH,KW], bias [O] or undefined -> [N,O,OH,OW] with
// OH = (H + 2 padding - dilation (KH - 1) - 1) / stride + 1 (likewise OW). groups == C is a
// depthwise convolution.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, Size2 stride = {1, 1},
              Size2 padding = {0, 0}, Size2 dilation = {1, 1}, int64_t groups = 1);
// x [N,C,L], weight [O,C/groups,K], bias [O] or undefined -> [N,O,OL]: conv2d on height-1 views.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, int64_t stride = 1, int64_t padding = 0,
              int64_t dilation = 1, int64_t groups = 1);

// The max of each kernel window of x [N,C,H,W] -> [N,C,OH,OW], OH = (H + 2 padding - KH) / stride + 1.
// stride defaults to the kernel; the zero padding (at most half the kernel) never wins. The
// gradient goes to each window's argmax.
Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0});
// The mean of each window, padding counted as zeros (PyTorch's count_include_pad = true).
Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0});

// PyTorch's pooling options. dilation spaces a max window's taps (window extent
// dilation (kernel - 1) + 1); ceil_mode rounds the output size up,
//   OH = ceil((H + 2 padding - dilation (kernel - 1) - 1) / stride) + 1,
// dropping a last window that would start in the right padding; count_include_pad = false
// divides each mean by the input elements in its window only (true: also the padding inside
// [-padding, H + padding), never the ceil_mode overhang). Ties in a max window send the gradient
// to the first maximum in row-major order, as PyTorch's kernels do. Options left at their
// defaults run the fused kernels above; others a composition of strided views (any device).
struct MaxPool2dOptions {
  std::optional<Size2> stride = std::nullopt;
  Size2 padding{0, 0};
  Size2 dilation{1, 1};
  bool ceil_mode = false;
};
struct AvgPool2dOptions {
  std::optional<Size2> stride = std::nullopt;
  Size2 padding{0, 0};
  bool ceil_mode = false;
  bool count_include_pad = true;
};
Tensor max_pool2d(const Tensor& x, Size2 kernel, const MaxPool2dOptions& options);
Tensor avg_pool2d(const Tensor& x, Size2 kernel, const AvgPool2dOptions& options);
// x [N,C,H,W] -> [N,C,OH,OW] for output_size (OH, OW): output row i averages the input rows
// [floor(i H / OH), ceil((i + 1) H / OH)), likewise columns (PyTorch's adaptive_avg_pool2d).
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);
// x [N,C,H,W] -> [N,C]: the mean over H and W.
Tensor global_avg_pool2d(const Tensor& x);

}  // namespace ember
