#include "nn/layers/windows.h"

#include <vector>

#include "autograd/index_ops.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember::nn {
namespace {

// roll along one dim: the last `shift` (mod size) elements move to the front.
Tensor roll(const Tensor& x, int64_t dim, int64_t shift) {
  const int64_t size = x.size(dim), s = ((shift % size) + size) % size;
  if (s == 0) return x;
  return cat({slice(x, dim, size - s, size), slice(x, dim, 0, size - s)}, dim);
}

void check_windows(const char* op, int64_t height, int64_t width, int64_t window) {
  check(window > 0, op, ": window ", window, " must be positive");
  check(height % window == 0 && width % window == 0, op, ": a ", window, "x", window, " window does not divide the ",
        height, "x", width, " feature map");
}

}  // namespace

Tensor cyclic_shift(const Tensor& x, int64_t shift_h, int64_t shift_w) {
  check(x.dim() == 4, "cyclic_shift: input ", x.shape(), " must be [B, H, W, C]");
  return roll(roll(x, 1, shift_h), 2, shift_w);
}

Tensor window_partition(const Tensor& x, int64_t window) {
  check(x.dim() == 4, "window_partition: input ", x.shape(), " must be [B, H, W, C]");
  const int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  check_windows("window_partition", h, w, window);
  const Tensor grid = reshape(x, {b, h / window, window, w / window, window, c});
  return reshape(permute(grid, {0, 1, 3, 2, 4, 5}), {-1, window * window, c});
}

Tensor window_merge(const Tensor& windows, int64_t window, int64_t height, int64_t width) {
  check_windows("window_merge", height, width, window);
  check(windows.dim() == 3 && windows.size(1) == window * window &&
            windows.size(0) % ((height / window) * (width / window)) == 0,
        "window_merge: windows ", windows.shape(), " are not [B nW, ", window * window, ", C] for a ", height, "x",
        width, " map");
  const int64_t c = windows.size(2);
  const Tensor grid = reshape(windows, {-1, height / window, width / window, window, window, c});
  return reshape(permute(grid, {0, 1, 3, 2, 4, 5}), {-1, height, width, c});
}

Tensor shifted_window_mask(int64_t height, int64_t width, int64_t window, int64_t shift) {
  check_windows("shifted_window_mask", height, width, window);
  check(shift >= 0 && shift < window, "shifted_window_mask: shift ", shift, " must be in [0, window = ", window, ")");
  // Region id of each position: 3 bands per axis (only one when there is no shift).
  auto band = [&](int64_t i, int64_t size) { return shift == 0 ? 0 : (i < size - window ? 0 : i < size - shift ? 1 : 2); };
  const int64_t per_row = width / window, windows = (height / window) * per_row, n = window * window;
  std::vector<int64_t> attend(static_cast<size_t>(windows * n * n));
  for (int64_t win = 0; win < windows; ++win) {
    std::vector<int64_t> region(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) {
      const int64_t y = (win / per_row) * window + t / window, x = (win % per_row) * window + t % window;
      region[static_cast<size_t>(t)] = band(y, height) * 3 + band(x, width);
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        attend[static_cast<size_t>((win * n + i) * n + j)] = region[static_cast<size_t>(i)] == region[static_cast<size_t>(j)] ? 1 : 0;
  }
  return from_vector<int64_t>(attend, {windows, n, n}, {.dtype = DType::Bool});
}

}  // namespace ember::nn
