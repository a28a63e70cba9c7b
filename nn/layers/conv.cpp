#include "nn/layers/conv.h"

#include <sstream>

#include "nn/init.h"
#include "nn/layers/support.h"
#include "tensor/creation.h"

namespace ember::nn {
namespace {

// "name=value", or "" (left out of the description) when value is the default.
std::string option_text(const char* name, int64_t value, int64_t fallback) {
  return value == fallback ? "" : std::string(name) + "=" + std::to_string(value);
}

std::string kernel_text(const Shape& kernel) {
  std::ostringstream os;
  os << "kernel=" << kernel[0];
  for (size_t i = 1; i < kernel.size(); ++i) os << "x" << kernel[i];
  return os.str();
}

}  // namespace

ConvBase::ConvBase(const char* type, int64_t in_channels, int64_t out_channels, const Shape& kernel, ConvOptions options)
    : Module(describe_call(type, in_channels, out_channels, kernel_text(kernel), option_text("stride", options.stride, 1),
                           option_text("padding", options.padding, 0), option_text("dilation", options.dilation, 1),
                           option_text("groups", options.groups, 1), options.bias ? "" : "bias=false")),
      in_channels_(in_channels),
      options_(options) {
  check_positive(describe(), {in_channels, out_channels, options.stride, options.dilation, options.groups});
  for (int64_t k : kernel) check_positive(describe(), {k});
  check(options.padding >= 0, describe(), ": padding must be non-negative");
  check(in_channels % options.groups == 0 && out_channels % options.groups == 0, describe(),
        ": channels must be divisible by groups");
  Shape wshape{out_channels, in_channels / options.groups};
  wshape.insert(wshape.end(), kernel.begin(), kernel.end());
  weight_ = register_parameter("weight", empty(wshape));
  if (options.bias) bias_ = register_parameter("bias", empty({out_channels}));
  init::default_affine_(weight_, bias_);
}

Conv1d::Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel, ConvOptions options)
    : ConvBase("Conv1d", in_channels, out_channels, {kernel}, options) {}

Tensor Conv1d::forward(const Tensor& x) {
  check_input(describe(), x, 3, "[N,C,L]", in_channels_);
  const ConvOptions& o = options_;
  return conv1d(x, weight_, bias_, o.stride, o.padding, o.dilation, o.groups);
}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel, ConvOptions options)
    : ConvBase("Conv2d", in_channels, out_channels, {kernel[0], kernel[1]}, options) {}

Tensor Conv2d::forward(const Tensor& x) {
  check_input(describe(), x, 4, "[N,C,H,W]", in_channels_);
  const ConvOptions& o = options_;
  return conv2d(x, weight_, bias_, {o.stride, o.stride}, {o.padding, o.padding}, {o.dilation, o.dilation}, o.groups);
}

}  // namespace ember::nn
