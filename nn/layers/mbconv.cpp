#include "nn/layers/mbconv.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "autograd/elementwise.h"
#include "autograd/reduce.h"
#include "autograd/unary.h"
#include "nn/layers/activation.h"
#include "nn/layers/support.h"

namespace ember::nn {
namespace {

// Conv (no bias) - BatchNorm, then the activation unless `activation` is empty.
std::shared_ptr<Sequential> conv_bn(int64_t in, int64_t out, int64_t kernel, ConvOptions conv,
                                    const std::string& activation) {
  conv.bias = false;
  auto seq = std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
      std::make_shared<Conv2d>(in, out, kernel, conv), std::make_shared<BatchNorm2d>(out)});
  if (!activation.empty()) seq->push_back(Activation(activation));
  return seq;
}

}  // namespace

SqueezeExcitation::SqueezeExcitation(int64_t channels, int64_t squeezed, const std::string& activation)
    : Module(describe_call("SqueezeExcitation", channels, squeezed)), channels_(channels) {
  check_positive(describe(), {channels, squeezed});
  reduce_ = register_module("reduce", std::make_shared<Conv2d>(channels, squeezed, 1));
  act_ = register_module("act", Activation(activation));
  expand_ = register_module("expand", std::make_shared<Conv2d>(squeezed, channels, 1));
}

Tensor SqueezeExcitation::forward(const Tensor& x) {
  check_input(describe(), x, 4, "[B, C, H, W]", channels_);
  return x * sigmoid(expand_->forward(act_->forward(reduce_->forward(mean(x, {2, 3}, true)))));
}

MBConv::MBConv(int64_t in_channels, int64_t out_channels, int64_t stride, const MBConvOptions& o)
    : Module(describe_call("MBConv", in_channels, out_channels, "stride=" + std::to_string(stride),
                           "expansion=" + std::to_string(o.expansion), o.se_ratio > 0 ? "se" : "")),
      in_channels_(in_channels),
      residual_(stride == 1 && in_channels == out_channels) {
  check_positive(describe(), {in_channels, out_channels, stride, o.expansion});
  check(o.se_ratio >= 0, describe(), ": se_ratio must be non-negative");
  const int64_t hidden = o.expansion * in_channels;
  if (o.expansion != 1) expand_ = register_module("expand", conv_bn(in_channels, hidden, 1, {}, o.activation));
  depthwise_ = register_module(
      "depthwise", conv_bn(hidden, hidden, 3, {.stride = stride, .padding = 1, .groups = hidden}, o.activation));
  if (o.se_ratio > 0) {
    const auto squeezed = std::max<int64_t>(1, std::llround(o.se_ratio * static_cast<double>(in_channels)));
    se_ = register_module("se", std::make_shared<SqueezeExcitation>(hidden, squeezed, o.activation));
  }
  project_ = register_module("project", conv_bn(hidden, out_channels, 1, {}, ""));
}

Tensor MBConv::forward(const Tensor& x) {
  check_input(describe(), x, 4, "[B, C, H, W]", in_channels_);
  Tensor h = expand_ ? expand_->forward(x) : x;
  h = depthwise_->forward(h);
  if (se_) h = se_->forward(h);
  h = project_->forward(h);
  return residual_ ? x + h : h;
}

}  // namespace ember::nn
