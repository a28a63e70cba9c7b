#pragma once
// Pooling over [N, C, H, W]: MaxPool2d and AvgPool2d with square windows, AdaptiveAvgPool2d.
#include <optional>

#include "autograd/conv_ops.h"
#include "nn/module.h"

namespace ember::nn {

// A square kernel x kernel window moved by stride (the kernel by default), zero padding on
// each side (at most half the kernel).
class Pool2d : public Module {
 public:
  using PoolFn = Tensor (*)(const Tensor&, Size2, std::optional<Size2>, Size2);
  Tensor forward(const Tensor& x) override;

 protected:
  Pool2d(const char* type, PoolFn fn, int64_t kernel, std::optional<int64_t> stride, int64_t padding);

 private:
  PoolFn fn_;
  int64_t kernel_, stride_, padding_;
};

class MaxPool2d : public Pool2d {
 public:
  explicit MaxPool2d(int64_t kernel, std::optional<int64_t> stride = std::nullopt, int64_t padding = 0);
};

// Padding counts as zeros in the mean (PyTorch's count_include_pad = true).
class AvgPool2d : public Pool2d {
 public:
  explicit AvgPool2d(int64_t kernel, std::optional<int64_t> stride = std::nullopt, int64_t padding = 0);
};

// [N, C, H, W] -> [N, C, OH, OW] for any H, W; AdaptiveAvgPool2d(1) is global average pooling.
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  explicit AdaptiveAvgPool2d(int64_t output_size) : AdaptiveAvgPool2d(Size2{output_size, output_size}) {}
  Tensor forward(const Tensor& x) override;

 private:
  Size2 output_size_;
};

}  // namespace ember::nn
