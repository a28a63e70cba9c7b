#include "nn/layers/patches.h"

#include "autograd/shape_ops.h"

namespace ember::nn {
namespace {

void check_patches(const char* op, int64_t height, int64_t width, int64_t patch) {
  check(patch > 0, op, ": patch size ", patch, " must be positive");
  check(height % patch == 0 && width % patch == 0, op, ": a ", patch, "x", patch, " patch does not divide the ",
        height, "x", width, " feature map");
}

}  // namespace

Tensor unfold_patches(const Tensor& x, int64_t patch) {
  check(x.dim() == 4, "unfold_patches: input ", x.shape(), " must be [B, C, H, W]");
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  check_patches("unfold_patches", h, w, patch);
  const Tensor grid = reshape(x, {b, c, h / patch, patch, w / patch, patch});  // [B, C, r, i, c, j]
  return reshape(permute(grid, {0, 3, 5, 2, 4, 1}), {b, patch * patch, (h / patch) * (w / patch), c});
}

Tensor fold_patches(const Tensor& patches, int64_t patch, int64_t height, int64_t width) {
  check_patches("fold_patches", height, width, patch);
  check(patches.dim() == 4 && patches.size(1) == patch * patch &&
            patches.size(2) == (height / patch) * (width / patch),
        "fold_patches: patches ", patches.shape(), " are not [B, ", patch * patch, ", ",
        (height / patch) * (width / patch), ", C] for a ", height, "x", width, " map");
  const int64_t b = patches.size(0), c = patches.size(3);
  const Tensor grid = reshape(patches, {b, patch, patch, height / patch, width / patch, c});  // [B, i, j, r, c, C]
  return reshape(permute(grid, {0, 5, 3, 1, 4, 2}), {b, c, height, width});
}

}  // namespace ember::nn
