#pragma once
// Activation modules (parameter-free, elementwise) and a factory by name for model builders.
#include <functional>
#include <string_view>

#include "nn/module.h"

namespace ember::nn {

// Applies one elementwise function; the activations below are this with a fixed function.
class Elementwise : public Module {
 public:
  Elementwise(std::string description, std::function<Tensor(const Tensor&)> fn)
      : Module(std::move(description)), fn_(std::move(fn)) {}
  Tensor forward(const Tensor& x) override { return fn_(x); }

 private:
  std::function<Tensor(const Tensor&)> fn_;
};

struct Identity : Elementwise {
  Identity();
};
struct ReLU : Elementwise {
  ReLU();
};
struct LeakyReLU : Elementwise {
  explicit LeakyReLU(double negative_slope = 0.01);
};
struct Tanh : Elementwise {
  Tanh();
};
struct Sigmoid : Elementwise {
  Sigmoid();
};
struct GELU : Elementwise {
  explicit GELU(bool tanh_approximation = false);
};
struct SiLU : Elementwise {
  SiLU();
};

// A new activation module by name: "relu", "leaky_relu", "tanh", "sigmoid", "gelu",
// "gelu_tanh" (the tanh approximation), "silu" (also "swish"), "identity".
ModulePtr Activation(std::string_view name);

}  // namespace ember::nn
