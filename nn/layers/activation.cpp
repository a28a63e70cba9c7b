#include "nn/layers/activation.h"

#include <memory>
#include <string>

#include "autograd/unary.h"
#include "nn/layers/support.h"

namespace ember::nn {

Identity::Identity() : Elementwise("Identity()", [](const Tensor& x) { return x; }) {}
ReLU::ReLU() : Elementwise("ReLU()", [](const Tensor& x) { return relu(x); }) {}
LeakyReLU::LeakyReLU(double negative_slope)
    : Elementwise(describe_call("LeakyReLU", negative_slope),
                  [negative_slope](const Tensor& x) { return leaky_relu(x, negative_slope); }) {}
Tanh::Tanh() : Elementwise("Tanh()", [](const Tensor& x) { return tanh(x); }) {}
Sigmoid::Sigmoid() : Elementwise("Sigmoid()", [](const Tensor& x) { return sigmoid(x); }) {}
GELU::GELU(bool tanh_approximation)
    : Elementwise(describe_call("GELU", tanh_approximation ? "tanh" : ""),
                  [tanh_approximation](const Tensor& x) { return gelu(x, tanh_approximation); }) {}
SiLU::SiLU() : Elementwise("SiLU()", [](const Tensor& x) { return silu(x); }) {}

ModulePtr Activation(std::string_view name) {
  if (name == "relu") return std::make_shared<ReLU>();
  if (name == "leaky_relu") return std::make_shared<LeakyReLU>();
  if (name == "tanh") return std::make_shared<Tanh>();
  if (name == "sigmoid") return std::make_shared<Sigmoid>();
  if (name == "gelu") return std::make_shared<GELU>();
  if (name == "gelu_tanh") return std::make_shared<GELU>(true);
  if (name == "silu" || name == "swish") return std::make_shared<SiLU>();
  if (name == "identity") return std::make_shared<Identity>();
  fail("Activation: unknown name '", std::string(name),
       "' (known: relu, leaky_relu, tanh, sigmoid, gelu, gelu_tanh, silu, swish, identity)");
}

}  // namespace ember::nn
