#pragma once
// One ladder of model sizes shared by the image families (CoAtNet, MobileViT, Swin, and the
// ViT and CNN baselines), so a scaling sweep compares families at the same size index: each
// index fixes a base width and a depth, from which every family derives its stage widths and
// block counts. Parameter counts per family and size are listed in each family's header
// (measured by tests/nn/test_hybrid_image_models.cpp, 28x28x1 inputs, 10 classes).
#include <cstdint>
#include <memory>

#include "nn/models/cnn.h"
#include "nn/models/vit.h"

namespace ember::nn {

struct ModelSize {
  int64_t width;  // base channel count; stage widths are multiples of it
  int64_t depth;  // blocks per Transformer stage (and per deep conv stage)
};

inline constexpr int64_t kModelSizes = 5;

// Index 0 .. 4: widths 16, 24, 32, 48, 64 and depths 1, 1, 2, 2, 3. Other indices throw.
ModelSize model_size(int64_t index);

// Attention heads for width d at the given head width: max(1, d / head_dim), which must divide d.
int64_t heads_for(int64_t d_model, int64_t head_dim, const char* model);

// The baselines on the same ladder, parameters at 28x28x1, 10 classes (ModelSizes.ParameterCounts):
// - ViT: d = 4w, 2k blocks, head width 16, patch 4 where it divides the image (else 2, else 1):
//   0: 104,970; 1: 231,178; 2: 803,082; 3: 1,794,442; 4: 4,758,538.
// - CNN: BatchNorm conv stages of {w, 2w, 4w} channels with k convs each, max pool between:
//   0: 24,058; 1: 53,362; 2: 288,170; 3: 646,522; 4: 1,922,762.
ViTOptions vit_options(int64_t size, int64_t image_size = 28, int64_t in_channels = 1, int64_t num_classes = 10);
std::shared_ptr<ViT> vit(int64_t size, int64_t image_size = 28, int64_t in_channels = 1, int64_t num_classes = 10);
CNNOptions cnn_options(int64_t size, int64_t in_channels = 1, int64_t num_classes = 10);
std::shared_ptr<Sequential> cnn(int64_t size, int64_t in_channels = 1, int64_t num_classes = 10);

}  // namespace ember::nn
