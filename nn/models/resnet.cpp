#include "nn/models/resnet.h"

#include <algorithm>
#include <cmath>

#include "autograd/elementwise.h"
#include "nn/layers/activation.h"
#include "nn/layers/flatten.h"
#include "nn/layers/linear.h"
#include "nn/layers/pool.h"
#include "nn/layers/support.h"

namespace ember::nn {
namespace {

// Convolutions followed by BatchNorm need no bias: BN's shift replaces it.
std::shared_ptr<Conv2d> conv_before_bn(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return std::make_shared<Conv2d>(in, out, kernel, ConvOptions{.stride = stride, .padding = kernel / 2, .bias = false});
}

}  // namespace

BasicBlock::BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, const std::string& activation)
    : Module(describe_call("BasicBlock", in_channels, out_channels, stride == 1 ? "" : "stride=" + std::to_string(stride))) {
  conv1_ = register_module("conv1", conv_before_bn(in_channels, out_channels, 3, stride));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(out_channels));
  act_ = register_module("act", Activation(activation));
  conv2_ = register_module("conv2", conv_before_bn(out_channels, out_channels, 3, 1));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(out_channels));
  if (stride != 1 || in_channels != out_channels)
    shortcut_ = register_module("shortcut", std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
                                                conv_before_bn(in_channels, out_channels, 1, stride),
                                                std::make_shared<BatchNorm2d>(out_channels)}));
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor y = (*bn2_)((*conv2_)((*act_)((*bn1_)((*conv1_)(x)))));
  return (*act_)(y + (shortcut_ ? (*shortcut_)(x) : x));
}

ResNet::ResNet(const ResNetOptions& o) : Module("ResNet") {
  check(!o.blocks_per_stage.empty(), describe(), ": needs at least one stage");
  for (int64_t b : o.blocks_per_stage) check_positive(describe(), {b});
  check(o.width_multiplier > 0, describe(), ": width_multiplier must be positive");
  const int64_t base = std::max<int64_t>(1, std::llround(static_cast<double>(o.base_width) * o.width_multiplier));
  register_module("conv1", conv_before_bn(o.in_channels, base, 3, 1));
  register_module("bn1", std::make_shared<BatchNorm2d>(base));
  register_module("act", Activation(o.activation));
  int64_t width = base;
  for (size_t s = 0; s < o.blocks_per_stage.size(); ++s) {
    const int64_t out = base << s;
    auto stage = std::make_shared<Sequential>();
    for (int64_t b = 0; b < o.blocks_per_stage[s]; ++b) {
      stage->push_back(std::make_shared<BasicBlock>(width, out, b == 0 && s > 0 ? 2 : 1, o.activation));
      width = out;
    }
    register_module("layer" + std::to_string(s + 1), stage);
  }
  register_module("pool", std::make_shared<AdaptiveAvgPool2d>(1));
  register_module("flatten", std::make_shared<Flatten>());
  register_module("fc", std::make_shared<Linear>(width, o.num_classes));
}

Tensor ResNet::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [name, child] : named_children()) y = (*child)(y);
  return y;
}

}  // namespace ember::nn
