#pragma once
// The model families whose fitting capacity the program measures, described by a small value
// type so that a measurement can be named, cached and rebuilt from a fresh initialisation.
#include <string>
#include <vector>

#include "nn/module.h"

namespace ember::emc {

struct ModelSpec {
  std::string arch = "mlp";            // "linear", "mlp", "cnn", "resnet" or "vit"
  std::vector<int64_t> widths = {32};  // mlp: hidden widths; cnn (conv-BN-act), resnet: stage channels; vit: {d_model}
  int64_t depth = 1;                   // cnn: convolutions per stage; resnet: blocks per stage; vit: blocks
  std::string activation = "relu";

  // "linear", "mlp[32]", "cnn[8,16]", "cnn[8,16]x2", "resnet[4,8]-tanh": unique per spec.
  std::string name() const;
};

// A fresh model (initialised from the global generator) for samples of `sample_shape`
// ([features] or [C, H, W]; an MLP flattens images) and `num_classes` outputs.
nn::ModulePtr build_model(const ModelSpec& spec, const Shape& sample_shape, int64_t num_classes);

// The parameter count of that model.
int64_t count_parameters(const ModelSpec& spec, const Shape& sample_shape, int64_t num_classes);

}  // namespace ember::emc
