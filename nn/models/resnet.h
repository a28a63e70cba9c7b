#pragma once
// CIFAR-style residual networks (He et al. 2016, section 4.2): a 3x3 stem without pooling,
// stages of basic blocks whose width doubles (and resolution halves) from stage to stage,
// global average pooling and a Linear head. The default is ResNet-20 for 32x32 inputs;
// blocks_per_stage {2, 2, 2, 2} with base_width k is the width-k ResNet-18 of the
// double-descent experiments (Nakkiran et al. 2019).
#include <string>
#include <vector>

#include "nn/layers/conv.h"
#include "nn/layers/norm.h"
#include "nn/sequential.h"

namespace ember::nn {

// Two 3x3 conv-BN pairs with an activation between and after the residual sum. When the
// stride or the width changes, the shortcut is a 1x1 strided convolution with BatchNorm.
class BasicBlock : public Module {
 public:
  BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, const std::string& activation = "relu");
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  ModulePtr act_;
  std::shared_ptr<Sequential> shortcut_;  // null for the identity
};

struct ResNetOptions {
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  int64_t base_width = 16;      // channels of the stem and the first stage
  double width_multiplier = 1;  // scales base_width (rounded, at least 1)
  std::vector<int64_t> blocks_per_stage = {3, 3, 3};  // stage i: base_width * 2^i channels, stride 2 if i > 0
  std::string activation = "relu";  // a name for nn::Activation
};

// Children, run in this order: conv1, bn1, act, layer1 .. layerN (Sequentials of
// BasicBlocks), pool, flatten, fc.
class ResNet : public Module {
 public:
  explicit ResNet(const ResNetOptions& options = {});
  Tensor forward(const Tensor& x) override;
};

}  // namespace ember::nn
