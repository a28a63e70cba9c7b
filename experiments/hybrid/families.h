#pragma once
// The model families the experiments compare, each built from a size index (a width and depth
// multiplier) so that a family spans >= 10x parameters over its sizes:
//   images [B, 1, S, S] (MNIST):  "vit" (patch 4, global attention), "hybrid" (nn::ImageHybrid,
//     CoAtNet-style: conv stem and stages, then Transformer blocks), "cnn" (nn::CNN);
//     the named hybrids on nn's size ladder (nn/models/model_sizes.h, size index 0..4)
//     "coatnet", "mobilevit", "swin" and their baselines "ladder-vit", "ladder-cnn";
//   text i64 [B, T] (bytes):      "text-transformer" (all attention blocks), "text-hybrid"
//     (conv blocks first, then attention: HybridBERT-style), and for the balance study at equal
//     parameters "text-conv-first" (= text-hybrid), "text-attention-first", "text-interleaved";
//   video [B, F, 1, S, S]:         "video-hybrid" (per-frame conv stem, temporal conv,
//     attention over frames), "video-transformer" (space-time tubelets, global attention).
// Size index s = 0, 1, 2, 3, 4 sets the width d = 16 (s + 1) and the blocks 2, 2, 4, 4, 6 (the
// families not on nn's ladder).
#include <cstdint>
#include <string>
#include <vector>

#include "nn/module.h"

namespace ember::hybrid {

// What the model reads: its input kind and size (image side, byte length, or frame side).
struct InputSpec {
  std::string kind;  // "image", "text", "video"
  int64_t size = 28;
  int64_t frames = 8;        // video only
  int64_t num_classes = 10;
};

struct FamilyInfo {
  std::string name, input, description;
};
const std::vector<FamilyInfo>& families();
// Throws ember::Error listing the families when `name` is not one.
const FamilyInfo& family(const std::string& name);

// The width of size index s, and the number of blocks.
int64_t width_of(int size);
int64_t blocks_of(int size);

// A fresh model of `name` at size index `size` for `input` (initialised from the global
// generator: call manual_seed first). Throws ember::Error for an unknown family, a negative
// size, an input of another kind, or a size the family cannot take (an image side that the
// patch or window does not divide).
nn::ModulePtr build_model(const std::string& name, int size, const InputSpec& input);

int64_t parameter_count(nn::Module& model);

}  // namespace ember::hybrid
