#include "nn/models/coatnet.h"

#include <string>

#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "nn/layers/activation.h"
#include "nn/layers/conv.h"
#include "nn/layers/linear.h"
#include "nn/layers/mbconv.h"
#include "nn/layers/norm.h"
#include "nn/layers/pool.h"
#include "nn/layers/relative_attention.h"
#include "nn/layers/support.h"
#include "nn/layers/transformer.h"
#include "nn/models/model_sizes.h"

namespace ember::nn {
namespace {

// A 3x3 window with stride 2 and padding 1 (convolution or pooling): ceil(side / 2).
int64_t halved(int64_t side) { return (side - 1) / 2 + 1; }

}  // namespace

RelativeTransformerStage::RelativeTransformerStage(int64_t in_channels, int64_t d_model, int64_t depth,
                                                   int64_t in_side, bool downsample, const CoAtNetOptions& o)
    : Module(describe_call("RelativeTransformerStage", in_channels, d_model, "depth=" + std::to_string(depth),
                           "side=" + std::to_string(in_side), downsample ? "downsample" : "")),
      in_channels_(in_channels),
      in_side_(in_side),
      d_model_(d_model),
      side_(downsample ? halved(in_side) : in_side) {
  check_positive(describe(), {in_channels, d_model, depth, in_side});
  const int64_t heads = heads_for(d_model, o.head_dim, "CoAtNet");
  if (downsample) pool_ = register_module("pool", std::make_shared<MaxPool2d>(3, 2, 1));
  proj_ = register_module("proj", std::make_shared<Conv2d>(in_channels, d_model, 1));
  auto blocks = std::make_shared<Sequential>();
  for (int64_t i = 0; i < depth; ++i)
    blocks->push_back(std::make_shared<TransformerBlock>(
        TransformerBlockOptions{.d_model = d_model, .n_heads = heads, .mlp_ratio = o.mlp_ratio,
                                .activation = o.activation, .dropout = o.dropout},
        std::make_shared<RelativeAttention>(d_model, heads, side_, side_)));
  blocks_ = register_module("blocks", blocks);
}

Tensor RelativeTransformerStage::forward(const Tensor& x) {
  check_input(describe(), x, 4, "[B, C, H, W]", in_channels_);
  check(x.size(2) == in_side_ && x.size(3) == in_side_, describe(), ": input ", x.shape(), " must be ", in_side_, "x",
        in_side_);
  const Tensor map = proj_->forward(pool_ ? pool_->forward(x) : x);                 // [B, d, S, S]
  const Tensor tokens = blocks_->forward(transpose(flatten(map, 2), 1, 2));         // [B, S S, d]
  return reshape(transpose(tokens, 1, 2), {x.size(0), d_model_, side_, side_});
}

CoAtNet::CoAtNet(const CoAtNetOptions& o)
    : Module(describe_call("CoAtNet", "image=" + std::to_string(o.image_size),
                           "conv_stages=" + std::to_string(o.conv_channels.size()),
                           "attention_stages=" + std::to_string(o.attention_dims.size()))),
      options_(o) {
  check_positive(describe(), {o.image_size, o.in_channels, o.num_classes, o.stem_channels, o.head_dim, o.expansion});
  check(o.conv_channels.size() == o.conv_depths.size(), describe(), ": conv_channels and conv_depths differ in length");
  check(!o.attention_dims.empty() && o.attention_dims.size() == o.attention_depths.size(), describe(),
        ": needs at least one attention stage, with as many attention_depths as attention_dims");
  int64_t width = o.stem_channels, side = o.image_size;
  stages_.push_back(register_module(
      "stem", std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
                  std::make_shared<Conv2d>(o.in_channels, width, 3, ConvOptions{.padding = 1, .bias = false}),
                  std::make_shared<BatchNorm2d>(width), Activation(o.activation)})));
  const MBConvOptions mb{.expansion = o.expansion, .se_ratio = o.se_ratio, .activation = o.activation};
  for (size_t s = 0; s < o.conv_channels.size(); ++s) {
    check_positive(describe(), {o.conv_channels[s], o.conv_depths[s]});
    auto stage = std::make_shared<Sequential>();
    for (int64_t b = 0; b < o.conv_depths[s]; ++b) {
      stage->push_back(std::make_shared<MBConv>(width, o.conv_channels[s], b == 0 ? 2 : 1, mb));
      width = o.conv_channels[s];
    }
    side = halved(side);
    stages_.push_back(register_module("conv" + std::to_string(s + 1), stage));
  }
  int64_t blocks = 0;
  for (size_t s = 0; s < o.attention_dims.size(); ++s) {
    auto stage = std::make_shared<RelativeTransformerStage>(width, o.attention_dims[s], o.attention_depths[s], side,
                                                            s > 0, o);
    width = o.attention_dims[s];
    side = stage->out_side();
    blocks += o.attention_depths[s];
    stages_.push_back(register_module("attn" + std::to_string(s + 1), stage));
  }
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{width}));
  head_ = register_module("head", std::make_shared<Linear>(width, o.num_classes));
  init_transformer_(*this, blocks);
}

Tensor CoAtNet::forward(const Tensor& images) {
  check_input(describe(), images, 4, "[B, C, H, W]", options_.in_channels);
  check(images.size(2) == options_.image_size && images.size(3) == options_.image_size, describe(), ": input ",
        images.shape(), " must be ", options_.image_size, "x", options_.image_size, " images");
  Tensor h = images;
  for (const ModulePtr& stage : stages_) h = stage->forward(h);
  const Tensor tokens = norm_->forward(transpose(flatten(h, 2), 1, 2));  // [B, S S, d]
  return head_->forward(mean(tokens, {1}));
}

CoAtNetOptions coatnet_options(int64_t size, int64_t image_size, int64_t in_channels, int64_t num_classes) {
  const auto [w, k] = model_size(size);
  return {.image_size = image_size,
          .in_channels = in_channels,
          .num_classes = num_classes,
          .stem_channels = w,
          .conv_channels = {w, 2 * w},
          .conv_depths = {1, k},
          .attention_dims = {2 * w, 4 * w},
          .attention_depths = {k, k}};
}

std::shared_ptr<CoAtNet> coatnet(int64_t size, int64_t image_size, int64_t in_channels, int64_t num_classes) {
  return std::make_shared<CoAtNet>(coatnet_options(size, image_size, in_channels, num_classes));
}

}  // namespace ember::nn
