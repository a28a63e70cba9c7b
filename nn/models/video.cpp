#include "nn/models/video.h"

#include "autograd/elementwise.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "nn/init.h"
#include "nn/layers/activation.h"
#include "nn/layers/conv.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/support.h"
#include "nn/layers/transformer.h"
#include "nn/models/text_encoder.h"
#include "tensor/creation.h"

namespace ember::nn {
namespace {

void check_clips(const std::string& model, const Tensor& clips, int64_t frames, int64_t channels, int64_t size) {
  check(clips.dim() == 5 && clips.size(1) == frames && clips.size(2) == channels && clips.size(3) == size &&
            clips.size(4) == size,
        model, ": input ", clips.shape(), " must be [B, ", frames, ", ", channels, ", ", size, ", ", size, "]");
}

TransformerBlockOptions block_options(int64_t d_model, int64_t n_heads, const std::string& activation) {
  return {.d_model = d_model, .n_heads = n_heads, .activation = activation};
}

}  // namespace

VideoHybrid::VideoHybrid(const VideoHybridOptions& o)
    : Module(describe_call("VideoHybrid", "frames=" + std::to_string(o.frames), "image=" + std::to_string(o.image_size),
                           o.d_model, "depth=" + std::to_string(o.depth))),
      options_(o) {
  check_positive(describe(), {o.frames, o.image_size, o.in_channels, o.stem_channels, o.d_model, o.temporal_kernel,
                              o.n_heads, o.num_classes});
  check(o.image_size % 4 == 0, describe(), ": image size ", o.image_size, " must be a multiple of 4");
  const int64_t w = o.stem_channels, side = o.image_size / 4;
  stem_ = register_module("stem", std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
                                      std::make_shared<Conv2d>(o.in_channels, w, 3, ConvOptions{.stride = 2, .padding = 1}),
                                      Activation(o.activation),
                                      std::make_shared<Conv2d>(w, w, 3, ConvOptions{.stride = 2, .padding = 1}),
                                      Activation(o.activation)}));
  to_token_ = register_module("to_token", std::make_shared<Linear>(w * side * side, o.d_model));
  pos_emb_ = register_parameter("pos_emb", empty({o.frames, o.d_model}));
  const auto block = block_options(o.d_model, o.n_heads, o.activation);
  temporal_ = register_module("temporal", std::make_shared<TransformerBlock>(
                                              block, std::make_shared<ConvMixer>(o.d_model, o.temporal_kernel)));
  blocks_ = register_module("blocks", transformer_blocks(o.depth, block));
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{o.d_model}));
  head_ = register_module("head", std::make_shared<Linear>(o.d_model, o.num_classes));
  init_transformer_(*this, o.depth + 1);
  init::normal_(pos_emb_, 0, 0.02);
}

Tensor VideoHybrid::forward(const Tensor& clips) {
  const auto& o = options_;
  check_clips(describe(), clips, o.frames, o.in_channels, o.image_size);
  const int64_t b = clips.size(0);
  const Tensor maps = stem_->forward(reshape(clips, {b * o.frames, o.in_channels, o.image_size, o.image_size}));
  const Tensor tokens = to_token_->forward(reshape(maps, {b, o.frames, maps.numel() / (b * o.frames)}));
  const Tensor h = blocks_->forward(temporal_->forward(tokens + pos_emb_));
  return head_->forward(mean(norm_->forward(h), {1}));
}

VideoTransformer::VideoTransformer(const VideoTransformerOptions& o)
    : Module(describe_call("VideoTransformer", "frames=" + std::to_string(o.frames),
                           "image=" + std::to_string(o.image_size), "tubelet=" + std::to_string(o.tubelet),
                           "patch=" + std::to_string(o.patch_size), o.d_model, "depth=" + std::to_string(o.depth))),
      options_(o) {
  check_positive(describe(), {o.frames, o.image_size, o.in_channels, o.tubelet, o.patch_size, o.d_model, o.n_heads,
                              o.num_classes});
  check(o.frames % o.tubelet == 0, describe(), ": ", o.frames, " frames are not a multiple of the tubelet ", o.tubelet);
  check(o.image_size % o.patch_size == 0, describe(), ": image size ", o.image_size,
        " is not a multiple of the patch size ", o.patch_size);
  const int64_t grid = o.image_size / o.patch_size;
  patch_embed_ = register_module("patch_embed",
                                 std::make_shared<PatchEmbed>(o.tubelet * o.in_channels, o.patch_size, o.d_model));
  pos_emb_ = register_parameter("pos_emb", empty({o.frames / o.tubelet * grid * grid, o.d_model}));
  blocks_ = register_module("blocks", transformer_blocks(o.depth, block_options(o.d_model, o.n_heads, o.activation)));
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{o.d_model}));
  head_ = register_module("head", std::make_shared<Linear>(o.d_model, o.num_classes));
  init_transformer_(*this, o.depth);
  init::normal_(pos_emb_, 0, 0.02);
}

Tensor VideoTransformer::forward(const Tensor& clips) {
  const auto& o = options_;
  check_clips(describe(), clips, o.frames, o.in_channels, o.image_size);
  const int64_t b = clips.size(0), groups = o.frames / o.tubelet;
  // Consecutive frames of a tubelet are adjacent in memory, so a tubelet is a (t C)-channel image.
  const Tensor stacked = reshape(clips, {b * groups, o.tubelet * o.in_channels, o.image_size, o.image_size});
  const Tensor patches = patch_embed_->forward(stacked);  // [B groups, N, d]
  const Tensor tokens = reshape(patches, {b, groups * patches.size(1), o.d_model}) + pos_emb_;
  return head_->forward(mean(norm_->forward(blocks_->forward(tokens)), {1}));
}

}  // namespace ember::nn
