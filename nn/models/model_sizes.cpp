#include "nn/models/model_sizes.h"

#include <algorithm>
#include <array>

namespace ember::nn {

ModelSize model_size(int64_t index) {
  static constexpr std::array<ModelSize, kModelSizes> kLadder{{{16, 1}, {24, 1}, {32, 2}, {48, 2}, {64, 3}}};
  check(index >= 0 && index < kModelSizes, "model_size: size index ", index, " is outside 0 .. ", kModelSizes - 1);
  return kLadder[static_cast<size_t>(index)];
}

int64_t heads_for(int64_t d_model, int64_t head_dim, const char* model) {
  check(d_model > 0 && head_dim > 0, model, ": width ", d_model, " and head_dim ", head_dim, " must be positive");
  const int64_t heads = std::max<int64_t>(1, d_model / head_dim);
  check(d_model % heads == 0, model, ": width ", d_model, " is not a multiple of its ", heads, " heads (head_dim ",
        head_dim, ")");
  return heads;
}

ViTOptions vit_options(int64_t size, int64_t image_size, int64_t in_channels, int64_t num_classes) {
  const auto [w, k] = model_size(size);
  const int64_t patch = image_size % 4 == 0 ? 4 : image_size % 2 == 0 ? 2 : 1;
  return {.image_size = image_size,
          .in_channels = in_channels,
          .patch_size = patch,
          .d_model = 4 * w,
          .depth = 2 * k,
          .n_heads = heads_for(4 * w, 16, "ViT"),
          .num_classes = num_classes};
}

std::shared_ptr<ViT> vit(int64_t size, int64_t image_size, int64_t in_channels, int64_t num_classes) {
  return std::make_shared<ViT>(vit_options(size, image_size, in_channels, num_classes));
}

CNNOptions cnn_options(int64_t size, int64_t in_channels, int64_t num_classes) {
  const auto [w, k] = model_size(size);
  return {.in_channels = in_channels,
          .channels = {w, 2 * w, 4 * w},
          .convs_per_stage = k,
          .num_classes = num_classes,
          .batch_norm = true};
}

std::shared_ptr<Sequential> cnn(int64_t size, int64_t in_channels, int64_t num_classes) {
  return CNN(cnn_options(size, in_channels, num_classes));
}

}  // namespace ember::nn
