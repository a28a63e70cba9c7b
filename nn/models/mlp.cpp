#include "nn/models/mlp.h"

#include "nn/layers/activation.h"
#include "nn/layers/dropout.h"
#include "nn/layers/linear.h"

namespace ember::nn {

std::shared_ptr<Sequential> MLP(const MLPOptions& options) {
  auto model = std::make_shared<Sequential>();
  int64_t width = options.in_features;
  for (int64_t h : options.hidden) {
    model->push_back(std::make_shared<Linear>(width, h, options.bias));
    model->push_back(Activation(options.activation));
    if (options.dropout > 0) model->push_back(std::make_shared<Dropout>(options.dropout));
    width = h;
  }
  model->push_back(std::make_shared<Linear>(width, options.out_features, options.bias));
  return model;
}

}  // namespace ember::nn
