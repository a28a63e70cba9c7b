#include "nn/init.h"

#include <cmath>
#include <string>

#include "autograd/elementwise.h"
#include "autograd/grad_mode.h"
#include "tensor/creation.h"

namespace ember::nn::init {
namespace {

// Overwrites t with `values` (a fresh draw of t's shape) without recording.
const Tensor& assign(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  copy_(t, values);
  return t;
}

TensorOptions like(const Tensor& t) { return {.dtype = t.dtype(), .device = t.device()}; }

double kaiming_std(const Tensor& t, double a, FanMode mode, std::string_view nonlinearity) {
  Fans f = fans(t);
  const int64_t fan = mode == FanMode::FanIn ? f.in : f.out;
  check(fan > 0, "kaiming init: tensor ", t.shape(), " has a zero fan");
  return gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}

double xavier_std(const Tensor& t, double gain) {
  Fans f = fans(t);
  check(f.in + f.out > 0, "xavier init: tensor ", t.shape(), " has zero fans");
  return gain * std::sqrt(2.0 / static_cast<double>(f.in + f.out));
}

}  // namespace

Fans fans(const Tensor& weight) {
  check(weight.dim() >= 2, "init: fan in and fan out need a tensor of at least 2 dims, got ", weight.shape());
  const int64_t receptive = weight.numel() / std::max<int64_t>(weight.size(0) * weight.size(1), 1);
  return {.in = weight.size(1) * receptive, .out = weight.size(0) * receptive};
}

double gain(std::string_view nonlinearity, double slope) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" || nonlinearity == "sigmoid")
    return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1.0 + slope * slope));
  if (nonlinearity == "selu") return 0.75;
  fail("init::gain: unknown nonlinearity '", std::string(nonlinearity),
       "' (known: linear, conv1d, conv2d, sigmoid, tanh, relu, leaky_relu, selu)");
}

const Tensor& uniform_(const Tensor& t, double lo, double hi) {
  check(lo <= hi, "init::uniform_: empty range [", lo, ", ", hi, ")");
  return assign(t, affine(rand(t.shape(), like(t)), hi - lo, lo));
}

const Tensor& normal_(const Tensor& t, double mean, double std) {
  check(std >= 0, "init::normal_: negative std ", std);
  return assign(t, affine(randn(t.shape(), like(t)), std, mean));
}

const Tensor& constant_(const Tensor& t, double value) {
  NoGradGuard no_grad;
  return fill_(t, value);
}
const Tensor& zeros_(const Tensor& t) { return constant_(t, 0.0); }
const Tensor& ones_(const Tensor& t) { return constant_(t, 1.0); }

const Tensor& kaiming_uniform_(const Tensor& t, double a, FanMode mode, std::string_view nonlinearity) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  return uniform_(t, -bound, bound);
}

const Tensor& kaiming_normal_(const Tensor& t, double a, FanMode mode, std::string_view nonlinearity) {
  return normal_(t, 0.0, kaiming_std(t, a, mode, nonlinearity));
}

const Tensor& xavier_uniform_(const Tensor& t, double gain) {
  const double bound = std::sqrt(3.0) * xavier_std(t, gain);
  return uniform_(t, -bound, bound);
}

const Tensor& xavier_normal_(const Tensor& t, double gain) { return normal_(t, 0.0, xavier_std(t, gain)); }

void default_affine_(const Tensor& weight, const Tensor& bias) {
  kaiming_uniform_(weight, std::sqrt(5.0));
  if (!bias.defined()) return;
  const double bound = 1.0 / std::sqrt(static_cast<double>(fans(weight).in));
  uniform_(bias, -bound, bound);
}

}  // namespace ember::nn::init
