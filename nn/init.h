#pragma once
// Parameter initialisers with PyTorch's formulas (torch.nn.init). Each fills its tensor in
// place, under NoGradGuard, from the global Philox generator (manual_seed makes it repeatable),
// and returns it. Fans follow PyTorch: a weight [out, in, k...] has fan_in = in * prod(k) and
// fan_out = out * prod(k).
#include <string_view>

#include "tensor/tensor.h"

namespace ember::nn::init {

enum class FanMode { FanIn, FanOut };

struct Fans {
  int64_t in = 0;
  int64_t out = 0;
};
Fans fans(const Tensor& weight);  // weight has at least 2 dims

// The recommended gain for a nonlinearity: "linear", "conv1d", "conv2d", "sigmoid" 1,
// "tanh" 5/3, "relu" sqrt(2), "leaky_relu" sqrt(2 / (1 + slope^2)), "selu" 3/4.
double gain(std::string_view nonlinearity, double slope = 0.01);

const Tensor& uniform_(const Tensor& t, double lo = 0, double hi = 1);
const Tensor& normal_(const Tensor& t, double mean = 0, double std = 1);
const Tensor& constant_(const Tensor& t, double value);
const Tensor& zeros_(const Tensor& t);
const Tensor& ones_(const Tensor& t);

// He et al. 2015: std = gain / sqrt(fan), gain = gain(nonlinearity, a); the uniform form draws
// from +-sqrt(3) std. The defaults (a = 0, leaky_relu) give the ReLU gain sqrt(2).
const Tensor& kaiming_uniform_(const Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                               std::string_view nonlinearity = "leaky_relu");
const Tensor& kaiming_normal_(const Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                              std::string_view nonlinearity = "leaky_relu");
// Glorot & Bengio 2010: std = gain sqrt(2 / (fan_in + fan_out)); uniform over +-sqrt(3) std.
const Tensor& xavier_uniform_(const Tensor& t, double gain = 1);
const Tensor& xavier_normal_(const Tensor& t, double gain = 1);

// PyTorch's default for Linear and Conv layers: the weight kaiming_uniform_ with a = sqrt(5),
// i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias (if defined) from the same range.
void default_affine_(const Tensor& weight, const Tensor& bias);

}  // namespace ember::nn::init
