#pragma once
// A multilayer perceptron: Linear-act(-dropout) for each hidden width, then a Linear head.
#include <string>
#include <vector>

#include "nn/sequential.h"

namespace ember::nn {

struct MLPOptions {
  int64_t in_features = 0;
  std::vector<int64_t> hidden = {};  // one hidden layer per width; empty: a linear model
  int64_t out_features = 0;
  std::string activation = "relu";  // a name for nn::Activation
  double dropout = 0;               // after each hidden activation, when > 0
  bool bias = true;
};

// Children: for each hidden layer Linear, activation (, Dropout); then the output Linear.
std::shared_ptr<Sequential> MLP(const MLPOptions& options);

}  // namespace ember::nn
