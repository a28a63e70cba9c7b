#include "nn/models/mobilevit.h"

#include <algorithm>
#include <string>

#include "autograd/index_ops.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "nn/layers/activation.h"
#include "nn/layers/conv.h"
#include "nn/layers/linear.h"
#include "nn/layers/mbconv.h"
#include "nn/layers/norm.h"
#include "nn/layers/patches.h"
#include "nn/layers/support.h"
#include "nn/layers/transformer.h"
#include "nn/models/model_sizes.h"

namespace ember::nn {
namespace {

std::shared_ptr<Sequential> conv_bn_act(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                        const std::string& activation) {
  return std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
      std::make_shared<Conv2d>(in, out, kernel, ConvOptions{.stride = stride, .padding = kernel / 2, .bias = false}),
      std::make_shared<BatchNorm2d>(out), Activation(activation)});
}

}  // namespace

MobileViTBlock::MobileViTBlock(int64_t channels, int64_t d_model, int64_t depth, int64_t patch, int64_t n_heads,
                               double mlp_ratio, const std::string& activation, double dropout)
    : Module(describe_call("MobileViTBlock", channels, d_model, "depth=" + std::to_string(depth),
                           "patch=" + std::to_string(patch))),
      channels_(channels),
      d_model_(d_model),
      patch_(patch) {
  check_positive(describe(), {channels, d_model, depth, patch, n_heads});
  local_ = register_module("local", conv_bn_act(channels, channels, 3, 1, activation));
  to_tokens_ = register_module("to_tokens", std::make_shared<Conv2d>(channels, d_model, 1, ConvOptions{.bias = false}));
  blocks_ = register_module("blocks", transformer_blocks(depth, {.d_model = d_model,
                                                                 .n_heads = n_heads,
                                                                 .mlp_ratio = mlp_ratio,
                                                                 .activation = activation,
                                                                 .dropout = dropout}));
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{d_model}));
  from_tokens_ = register_module("from_tokens", conv_bn_act(d_model, channels, 1, 1, activation));
  fuse_ = register_module("fuse", conv_bn_act(2 * channels, channels, 3, 1, activation));
}

Tensor MobileViTBlock::forward(const Tensor& x) {
  check_input(describe(), x, 4, "[B, C, H, W]", channels_);
  const int64_t batch = x.size(0), h = x.size(2), w = x.size(3);
  check(h % patch_ == 0 && w % patch_ == 0, describe(), ": a ", patch_, "x", patch_, " patch does not divide the ", h,
        "x", w, " feature map");
  const Tensor patches = unfold_patches(to_tokens_->forward(local_->forward(x)), patch_);  // [B, P, N, d]
  const int64_t p = patches.size(1), n = patches.size(2);
  const Tensor mixed = norm_->forward(blocks_->forward(reshape(patches, {batch * p, n, d_model_})));
  const Tensor global = fold_patches(reshape(mixed, {batch, p, n, d_model_}), patch_, h, w);
  return fuse_->forward(cat({x, from_tokens_->forward(global)}, 1));
}

MobileViT::MobileViT(const MobileViTOptions& o)
    : Module(describe_call("MobileViT", "image=" + std::to_string(o.image_size),
                           "stages=" + std::to_string(o.channels.size()))),
      options_(o) {
  check_positive(describe(), {o.image_size, o.in_channels, o.num_classes, o.stem_channels, o.patch_size, o.head_dim,
                              o.expansion});
  check(!o.channels.empty() && o.channels.size() == o.dims.size() && o.channels.size() == o.depths.size(), describe(),
        ": channels, dims and depths must have one entry per stage (at least one)");
  const MBConvOptions mv2{.expansion = o.expansion, .activation = o.activation};
  auto stem = conv_bn_act(o.in_channels, o.stem_channels, 3, 1, o.activation);
  stem->push_back(std::make_shared<MBConv>(o.stem_channels, o.stem_channels, 1, mv2));
  stages_.push_back(register_module("stem", stem));
  int64_t width = o.stem_channels, side = o.image_size, blocks = 0;
  for (size_t s = 0; s < o.channels.size(); ++s) {
    check(o.channels[s] > 0 && o.dims[s] > 0 && o.depths[s] >= 0, describe(), ": stage ", s + 1,
          " needs positive channels and dims and a non-negative depth");
    auto stage = std::make_shared<Sequential>();
    stage->push_back(std::make_shared<MBConv>(width, o.channels[s], 2, mv2));
    width = o.channels[s];
    side = (side - 1) / 2 + 1;
    if (o.depths[s] > 0) {
      const int64_t patch = side % o.patch_size == 0 ? o.patch_size : 1;
      stage->push_back(std::make_shared<MobileViTBlock>(width, o.dims[s], o.depths[s], patch,
                                                        heads_for(o.dims[s], o.head_dim, "MobileViT"), o.mlp_ratio,
                                                        o.activation, o.dropout));
      blocks += o.depths[s];
    }
    stages_.push_back(register_module("stage" + std::to_string(s + 1), stage));
  }
  head_ = register_module("head", std::make_shared<Linear>(width, o.num_classes));
  init_transformer_(*this, std::max<int64_t>(1, blocks));
}

Tensor MobileViT::forward(const Tensor& images) {
  check_input(describe(), images, 4, "[B, C, H, W]", options_.in_channels);
  check(images.size(2) == options_.image_size && images.size(3) == options_.image_size, describe(), ": input ",
        images.shape(), " must be ", options_.image_size, "x", options_.image_size, " images");
  Tensor h = images;
  for (const ModulePtr& stage : stages_) h = stage->forward(h);
  return head_->forward(mean(h, {2, 3}));
}

MobileViTOptions mobilevit_options(int64_t size, int64_t image_size, int64_t in_channels, int64_t num_classes) {
  const auto [w, k] = model_size(size);
  return {.image_size = image_size,
          .in_channels = in_channels,
          .num_classes = num_classes,
          .stem_channels = std::max<int64_t>(8, w / 2),
          .channels = {w, 2 * w},
          .dims = {2 * w, 3 * w},
          .depths = {k, k}};
}

std::shared_ptr<MobileViT> mobilevit(int64_t size, int64_t image_size, int64_t in_channels, int64_t num_classes) {
  return std::make_shared<MobileViT>(mobilevit_options(size, image_size, in_channels, num_classes));
}

}  // namespace ember::nn
