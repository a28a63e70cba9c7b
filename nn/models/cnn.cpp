#include "nn/models/cnn.h"

#include "nn/layers/activation.h"
#include "nn/layers/conv.h"
#include "nn/layers/flatten.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/pool.h"

namespace ember::nn {

std::shared_ptr<Sequential> CNN(const CNNOptions& options) {
  check(!options.channels.empty() && options.convs_per_stage >= 1,
        "CNN: needs at least one stage and one convolution per stage");
  auto model = std::make_shared<Sequential>();
  int64_t width = options.in_channels;
  for (size_t s = 0; s < options.channels.size(); ++s) {
    auto stage = std::make_shared<Sequential>();
    for (int64_t c = 0; c < options.convs_per_stage; ++c) {
      stage->push_back(std::make_shared<Conv2d>(width, options.channels[s], 3, ConvOptions{.padding = 1, .bias = !options.batch_norm}));
      if (options.batch_norm) stage->push_back(std::make_shared<BatchNorm2d>(options.channels[s]));
      stage->push_back(Activation(options.activation));
      width = options.channels[s];
    }
    if (options.pool && s + 1 < options.channels.size()) stage->push_back(std::make_shared<MaxPool2d>(2));
    model->push_back(stage);
  }
  model->push_back(std::make_shared<AdaptiveAvgPool2d>(1));
  model->push_back(std::make_shared<Flatten>());
  model->push_back(std::make_shared<Linear>(width, options.num_classes));
  return model;
}

}  // namespace ember::nn
