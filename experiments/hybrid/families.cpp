#include "experiments/hybrid/families.h"

#include "nn/models/cnn.h"
#include "nn/models/coatnet.h"
#include "nn/models/hybrid.h"
#include "nn/models/mobilevit.h"
#include "nn/models/model_sizes.h"
#include "nn/models/swin.h"
#include "nn/models/text_encoder.h"
#include "nn/models/video.h"
#include "nn/models/vit.h"
#include "tensor/error.h"

namespace ember::hybrid {

const std::vector<FamilyInfo>& families() {
  static const std::vector<FamilyInfo> list = {
      {"vit", "image", "ViT: 4x4 patches, global attention over all patches"},
      {"hybrid", "image", "CoAtNet-style ImageHybrid: conv stem and two conv stages, then attention"},
      {"cnn", "image", "plain CNN: 3x3 conv stages with max pooling"},
      {"coatnet", "image", "mini CoAtNet (nn::coatnet): MBConv stages, then relative-attention stages"},
      {"mobilevit", "image", "mini MobileViT (nn::mobilevit): inverted residuals, then MobileViT blocks"},
      {"swin", "image", "mini Swin (nn::swin): shifted-window attention, patch merging"},
      {"ladder-vit", "image", "ViT on nn's size ladder (nn::vit): global attention, the named hybrids' baseline"},
      {"ladder-cnn", "image", "CNN on nn's size ladder (nn::cnn): MobileViT's baseline"},
      {"text-transformer", "text", "Transformer encoder: attention blocks only"},
      {"text-hybrid", "text", "HybridBERT-style: conv blocks first, attention blocks last"},
      {"text-conv-first", "text", "balance study: conv blocks first (same as text-hybrid)"},
      {"text-attention-first", "text", "balance study: attention blocks first, conv blocks last"},
      {"text-interleaved", "text", "balance study: conv and attention blocks alternating"},
      {"video-transformer", "video", "ViViT-style: 2x4x4 space-time tubelets, global attention"},
      {"video-hybrid", "video", "VideoLLM-style: per-frame conv stem, temporal conv, attention over frames"},
  };
  return list;
}

const FamilyInfo& family(const std::string& name) {
  std::string known;
  for (const auto& f : families()) {
    if (f.name == name) return f;
    known += (known.empty() ? "" : ", ") + f.name;
  }
  fail("unknown model family '", name, "' (known: ", known, ")");
}

int64_t width_of(int size) { return 16 * (size + 1); }
int64_t blocks_of(int size) { return 2 * (size / 2 + 1); }

namespace {

// Half the blocks (rounded down, at least one) are conv blocks.
std::string text_layout(const std::string& name, int64_t blocks) {
  const int64_t convs = std::max<int64_t>(1, blocks / 2), attention = blocks - convs;
  if (name == "text-transformer") return std::string(blocks, 'A');
  if (name == "text-attention-first") return std::string(attention, 'A') + std::string(convs, 'C');
  if (name == "text-interleaved") {
    // C A C A ...; where one kind runs out, the rest of the other follows.
    std::string layout;
    int64_t c = convs, a = attention;
    for (bool conv = true; c + a > 0; conv = !conv) {
      if (conv && c > 0) layout += 'C', --c;
      else if (!conv && a > 0) layout += 'A', --a;
    }
    return layout;
  }
  return std::string(convs, 'C') + std::string(attention, 'A');  // text-hybrid, text-conv-first
}

}  // namespace

nn::ModulePtr build_model(const std::string& name, int size, const InputSpec& in) {
  const FamilyInfo& f = family(name);
  check(size >= 0, "model size index must be >= 0, got ", size);
  check(f.input == in.kind, "family '", name, "' reads ", f.input, " inputs, not ", in.kind);
  // The named image hybrids and their baselines share nn's size ladder (nn/models/model_sizes.h);
  // the window, patch and stage checks are the builders' own (ember::Error naming the stage).
  if (name == "coatnet") return nn::coatnet(size, in.size, 1, in.num_classes);
  if (name == "mobilevit") return nn::mobilevit(size, in.size, 1, in.num_classes);
  if (name == "swin") return nn::swin(size, in.size, 1, in.num_classes);
  if (name == "ladder-vit") return nn::vit(size, in.size, 1, in.num_classes);
  if (name == "ladder-cnn") return nn::cnn(size, 1, in.num_classes);
  const int64_t d = width_of(size), blocks = blocks_of(size), heads = d / 16;
  if (name == "vit") {
    check(in.size % 4 == 0, "family vit: image side ", in.size, " is not a multiple of its patch size 4");
    return std::make_shared<nn::ViT>(nn::ViTOptions{.image_size = in.size, .in_channels = 1, .patch_size = 4,
                                                    .d_model = d, .depth = blocks, .n_heads = heads,
                                                    .num_classes = in.num_classes});
  }
  if (name == "hybrid") {
    // Two conv stages take the side to a quarter: the same token grid as the ViT's 4x4 patches.
    // One attention block fewer than the ViT, since the conv stages do the early mixing.
    return std::make_shared<nn::ImageHybrid>(nn::ImageHybridOptions{.image_size = in.size, .in_channels = 1,
                                                                    .conv_channels = {d / 4, d / 2},
                                                                    .d_model = d, .depth = blocks - 1,
                                                                    .n_heads = heads,
                                                                    .num_classes = in.num_classes});
  }
  if (name == "cnn") {
    return nn::CNN({.in_channels = 1, .channels = {d / 2, d, 2 * d}, .convs_per_stage = std::max<int64_t>(1, blocks / 2),
                    .num_classes = in.num_classes});
  }
  if (f.input == "text") {
    return std::make_shared<nn::TextEncoder>(nn::TextEncoderOptions{.max_length = in.size, .d_model = d,
                                                                    .n_heads = heads,
                                                                    .layout = text_layout(name, blocks),
                                                                    .num_classes = in.num_classes});
  }
  if (name == "video-hybrid") {
    return std::make_shared<nn::VideoHybrid>(nn::VideoHybridOptions{.frames = in.frames, .image_size = in.size,
                                                                    .stem_channels = d / 2, .d_model = d,
                                                                    .depth = blocks - 1, .n_heads = heads,
                                                                    .num_classes = in.num_classes});
  }
  return std::make_shared<nn::VideoTransformer>(nn::VideoTransformerOptions{.frames = in.frames, .image_size = in.size,
                                                                            .d_model = d, .depth = blocks,
                                                                            .n_heads = heads,
                                                                            .num_classes = in.num_classes});
}

int64_t parameter_count(nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

}  // namespace ember::hybrid
