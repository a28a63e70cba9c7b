#pragma once
// A deterministic synthetic moving-MNIST: one digit moves in a straight line across an empty
// canvas, in one of k directions, for F frames. The label is the direction only (0 .. k - 1):
// the digit is drawn at random, so a model has to follow the motion over frames to classify,
// and the digit's shape is a nuisance. Direction j moves by `speed` pixels a frame at angle
// 2 pi j / k (j = 0 to the right, counter-clockwise with y up, so j = k/4 moves up the rows);
// the start is drawn so that the digit stays whole on the canvas in every frame.
#include <cstdint>

#include "experiments/common/dataset.h"
#include "tensor/tensor.h"

namespace ember::hybrid {

struct MovingMnistOptions {
  int64_t clips = 256;
  int64_t frames = 8;
  int64_t canvas = 24;      // square frames
  int64_t directions = 4;   // k >= 2
  double speed = 1.0;       // pixels a frame
};

struct VideoSet {
  Tensor clips;                     // f32 [n, F, 1, canvas, canvas], values in [0, 1]
  Tensor labels;                    // i64 [n]: the direction
  std::vector<int64_t> digit;       // per clip: the index into `digits` it shows
  std::vector<int64_t> dx, dy;      // per clip: total displacement from the first to the last frame (x right, y down)
};

// Clips from the digit images of `digits` (single-channel, square, smaller than the canvas),
// drawn from `seed` by the standard mt19937_64 generator: the same arguments give the same
// tensor on every machine. Throws ember::Error for options the canvas cannot hold.
VideoSet moving_mnist(const experiments::Dataset& digits, const MovingMnistOptions& options, uint64_t seed);

}  // namespace ember::hybrid
