#pragma once
// The inverted residual block of MobileNetV2 (Sandler et al. 2018), which EfficientNet's and
// CoAtNet's MBConv extend with squeeze-excitation (Hu et al. 2018).
#include <string>

#include "nn/layers/conv.h"
#include "nn/layers/norm.h"
#include "nn/sequential.h"

namespace ember::nn {

// x * sigmoid(conv1x1(act(conv1x1(mean_hw(x))))) over [B, C, H, W]: a per-channel gate
// computed from the global context. Children: reduce (C -> squeezed), act, expand (-> C).
class SqueezeExcitation : public Module {
 public:
  SqueezeExcitation(int64_t channels, int64_t squeezed, const std::string& activation = "silu");
  Tensor forward(const Tensor& x) override;

 private:
  int64_t channels_;
  std::shared_ptr<Conv2d> reduce_, expand_;
  ModulePtr act_;
};

struct MBConvOptions {
  int64_t expansion = 4;    // hidden = expansion * in_channels; 1 skips the expanding 1x1 conv
  double se_ratio = 0;      // squeeze to round(se_ratio * in_channels) (at least 1); 0: no SE
  std::string activation = "silu";
};

// [B, in, H, W] -> [B, out, H', W'] (H' = ceil(H / stride)): 1x1 expand - BN - act, 3x3
// depthwise (stride) - BN - act, optional SqueezeExcitation, 1x1 project - BN with no
// activation (the linear bottleneck); x + that when stride is 1 and in == out. Convolutions
// have no bias (BatchNorm follows each). Children: expand (a Sequential, unless expansion is
// 1), depthwise (Sequential), se (optional), project (Sequential).
class MBConv : public Module {
 public:
  MBConv(int64_t in_channels, int64_t out_channels, int64_t stride, const MBConvOptions& options = {});
  Tensor forward(const Tensor& x) override;

 private:
  int64_t in_channels_;
  bool residual_;
  ModulePtr expand_, depthwise_, se_, project_;
};

}  // namespace ember::nn
