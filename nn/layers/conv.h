#pragma once
// Conv1d over [N, C, L] and Conv2d over [N, C, H, W] (autograd/conv_ops.h).
#include "autograd/conv_ops.h"
#include "nn/module.h"

namespace ember::nn {

// Applied to every spatial dim alike.
struct ConvOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

// What Conv1d and Conv2d share: weight [out, in / groups, kernel...] and bias [out], from
// PyTorch's default initialisation (init::default_affine_).
class ConvBase : public Module {
 public:
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without a bias
  const ConvOptions& options() const { return options_; }

 protected:
  ConvBase(const char* type, int64_t in_channels, int64_t out_channels, const Shape& kernel, ConvOptions options);
  int64_t in_channels_;
  ConvOptions options_;
  Tensor weight_, bias_;
};

class Conv1d : public ConvBase {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel, ConvOptions options = {});
  Tensor forward(const Tensor& x) override;
};

class Conv2d : public ConvBase {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel, ConvOptions options = {});
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, ConvOptions options = {})
      : Conv2d(in_channels, out_channels, Size2{kernel, kernel}, options) {}
  Tensor forward(const Tensor& x) override;
};

}  // namespace ember::nn
