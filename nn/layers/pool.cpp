#include "nn/layers/pool.h"

#include "nn/layers/support.h"

namespace ember::nn {

Pool2d::Pool2d(const char* type, PoolFn fn, int64_t kernel, std::optional<int64_t> stride, int64_t padding)
    : Module(describe_call(type, kernel, "stride=" + std::to_string(stride.value_or(kernel)),
                           padding ? "padding=" + std::to_string(padding) : "")),
      fn_(fn),
      kernel_(kernel),
      stride_(stride.value_or(kernel)),
      padding_(padding) {
  check_positive(describe(), {kernel_, stride_});
  check(padding >= 0 && 2 * padding <= kernel, describe(), ": padding must be in [0, kernel / 2]");
}

Tensor Pool2d::forward(const Tensor& x) {
  check_input(describe(), x, 4, "[N,C,H,W]");
  return fn_(x, {kernel_, kernel_}, Size2{stride_, stride_}, {padding_, padding_});
}

MaxPool2d::MaxPool2d(int64_t kernel, std::optional<int64_t> stride, int64_t padding)
    : Pool2d("MaxPool2d", max_pool2d, kernel, stride, padding) {}

AvgPool2d::AvgPool2d(int64_t kernel, std::optional<int64_t> stride, int64_t padding)
    : Pool2d("AvgPool2d", avg_pool2d, kernel, stride, padding) {}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 output_size)
    : Module(describe_call("AdaptiveAvgPool2d", std::to_string(output_size[0]) + "x" + std::to_string(output_size[1]))),
      output_size_(output_size) {
  check_positive(describe(), {output_size[0], output_size[1]});
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  check_input(describe(), x, 4, "[N,C,H,W]");
  return adaptive_avg_pool2d(x, output_size_);
}

}  // namespace ember::nn
