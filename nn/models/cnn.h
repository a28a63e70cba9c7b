#pragma once
// A plain convolutional classifier: stages of 3x3 convolutions (padding 1) with an activation,
// a 2x2 max pool between stages, then global average pooling and a Linear head.
#include <string>
#include <vector>

#include "nn/sequential.h"

namespace ember::nn {

struct CNNOptions {
  int64_t in_channels = 3;
  std::vector<int64_t> channels = {32, 64, 128};  // the width of each stage
  int64_t convs_per_stage = 1;                    // depth within a stage
  int64_t num_classes = 10;
  std::string activation = "relu";  // a name for nn::Activation
  bool batch_norm = false;          // conv (without bias) - BatchNorm2d - activation
  bool pool = true;                 // MaxPool2d(2) after every stage but the last
};

// Children: one Sequential per stage ("0", "1", ...), then AdaptiveAvgPool2d(1), Flatten, Linear.
std::shared_ptr<Sequential> CNN(const CNNOptions& options);

}  // namespace ember::nn
