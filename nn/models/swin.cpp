#include "nn/models/swin.h"

#include <string>

#include "autograd/reduce.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/support.h"
#include "nn/layers/swin.h"
#include "nn/layers/transformer.h"
#include "nn/models/model_sizes.h"

namespace ember::nn {

Swin::Swin(const SwinOptions& o)
    : Module(describe_call("Swin", "image=" + std::to_string(o.image_size), o.embed_dim,
                           "window=" + std::to_string(o.window), "stages=" + std::to_string(o.depths.size()))),
      options_(o) {
  check_positive(describe(), {o.image_size, o.in_channels, o.num_classes, o.patch_size, o.embed_dim, o.window,
                              o.head_dim});
  check(!o.depths.empty(), describe(), ": needs at least one stage");
  check(o.image_size % o.patch_size == 0, describe(), ": patch size ", o.patch_size, " does not divide the image side ",
        o.image_size);
  int64_t side = o.image_size / o.patch_size, width = o.embed_dim, blocks = 0;
  stages_.push_back(register_module("patch_embed", std::make_shared<PatchEmbed>(o.in_channels, o.patch_size, width)));
  stages_.push_back(register_module("embed_norm", std::make_shared<LayerNorm>(Shape{width})));
  for (size_t s = 0; s < o.depths.size(); ++s) {
    const std::string name = std::to_string(s + 1);
    check(o.depths[s] > 0, describe(), ": stage ", name, " needs a positive depth");
    if (s > 0) {
      check(side % 2 == 0, describe(), ": stage ", s, "'s ", side, "x", side, " map cannot be merged into 2x2 patches");
      stages_.push_back(register_module("merge" + std::to_string(s), std::make_shared<PatchMerging>(width, side, side)));
      width *= 2;
      side /= 2;
    }
    const bool whole = side <= o.window;
    const int64_t window = whole ? side : o.window;
    check(side % window == 0, describe(), ": window ", window, " does not divide stage ", name, "'s ", side, "x", side,
          " feature map");
    const int64_t heads = heads_for(width, o.head_dim, "Swin");
    auto stage = std::make_shared<Sequential>();
    for (int64_t b = 0; b < o.depths[s]; ++b) {
      const int64_t shift = (whole || b % 2 == 0) ? 0 : window / 2;
      stage->push_back(std::make_shared<TransformerBlock>(
          TransformerBlockOptions{.d_model = width, .n_heads = heads, .mlp_ratio = o.mlp_ratio,
                                  .activation = o.activation, .dropout = o.dropout},
          std::make_shared<ShiftedWindowAttention>(width, heads, side, side, window, shift)));
    }
    blocks += o.depths[s];
    stages_.push_back(register_module("stage" + name, stage));
  }
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{width}));
  head_ = register_module("head", std::make_shared<Linear>(width, o.num_classes));
  init_transformer_(*this, blocks);
}

Tensor Swin::forward(const Tensor& images) {
  check_input(describe(), images, 4, "[B, C, H, W]", options_.in_channels);
  check(images.size(2) == options_.image_size && images.size(3) == options_.image_size, describe(), ": input ",
        images.shape(), " must be ", options_.image_size, "x", options_.image_size, " images");
  Tensor h = images;
  for (const ModulePtr& stage : stages_) h = stage->forward(h);  // tokens [B, N, d] after patch_embed
  return head_->forward(mean(norm_->forward(h), {1}));
}

SwinOptions swin_options(int64_t size, int64_t image_size, int64_t in_channels, int64_t num_classes) {
  const auto [w, k] = model_size(size);
  const int64_t side = image_size / 2;
  return {.image_size = image_size,
          .in_channels = in_channels,
          .num_classes = num_classes,
          .patch_size = 2,
          .embed_dim = w,
          .depths = {2 * k, 2 * k},
          .window = side % 7 == 0 ? 7 : 4};
}

std::shared_ptr<Swin> swin(int64_t size, int64_t image_size, int64_t in_channels, int64_t num_classes) {
  return std::make_shared<Swin>(swin_options(size, image_size, in_channels, num_classes));
}

}  // namespace ember::nn
