#include "nn/models/vit.h"

#include "autograd/elementwise.h"
#include "autograd/reduce.h"
#include "nn/init.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/support.h"
#include "nn/layers/transformer.h"
#include "tensor/creation.h"

namespace ember::nn {

ViT::ViT(const ViTOptions& o)
    : Module(describe_call("ViT", "image=" + std::to_string(o.image_size), "patch=" + std::to_string(o.patch_size),
                           o.d_model, "depth=" + std::to_string(o.depth), "heads=" + std::to_string(o.n_heads))),
      options_(o) {
  check_positive(describe(), {o.image_size, o.in_channels, o.patch_size, o.d_model, o.num_classes});
  check(o.image_size % o.patch_size == 0, describe(), ": image size ", o.image_size,
        " is not a multiple of the patch size ", o.patch_size);
  const int64_t grid = o.image_size / o.patch_size;
  patch_embed_ = register_module("patch_embed", std::make_shared<PatchEmbed>(o.in_channels, o.patch_size, o.d_model));
  pos_emb_ = register_parameter("pos_emb", empty({grid * grid, o.d_model}));
  blocks_ = register_module("blocks", transformer_blocks(o.depth, {.d_model = o.d_model,
                                                                   .n_heads = o.n_heads,
                                                                   .mlp_ratio = o.mlp_ratio,
                                                                   .activation = o.activation,
                                                                   .dropout = o.dropout}));
  norm_ = register_module("norm", std::make_shared<LayerNorm>(Shape{o.d_model}));
  head_ = register_module("head", std::make_shared<Linear>(o.d_model, o.num_classes));
  init_transformer_(*this, o.depth);
  init::normal_(pos_emb_, 0, 0.02);
}

Tensor ViT::forward(const Tensor& images) {
  check_input(describe(), images, 4, "[B, C, H, W]", options_.in_channels);
  check(images.size(2) == options_.image_size && images.size(3) == options_.image_size, describe(), ": input ",
        images.shape(), " must be ", options_.image_size, "x", options_.image_size, " images");
  const Tensor tokens = (*norm_)((*blocks_)((*patch_embed_)(images) + pos_emb_));
  return (*head_)(mean(tokens, {1}));
}

}  // namespace ember::nn
