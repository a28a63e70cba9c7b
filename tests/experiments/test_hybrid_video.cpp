// The synthetic moving MNIST: deterministic from its seed, different across seeds, and the
// labels match the motion that the pixels show.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "experiments/hybrid/moving_mnist.h"
#include "tensor/error.h"

using namespace ember;
using namespace ember::hybrid;

namespace {

// Four 6x6 "digits": a filled square with one corner pixel brighter.
experiments::Dataset toy_digits() {
  experiments::Dataset d{.name = "toy", .sample_shape = {1, 6, 6}, .x = {}, .y = {}, .num_classes = 4};
  for (int k = 0; k < 4; ++k) {
    for (int p = 0; p < 36; ++p) d.x.push_back(p == k ? 1.0f : 0.5f);
    d.y.push_back(k);
  }
  return d;
}

// Centre of mass (column, row) of frame t of clip c.
std::pair<double, double> centre(const Tensor& clips, int64_t c, int64_t t) {
  const int64_t side = clips.size(3);
  const Tensor frame = contiguous(select(select(select(clips, 0, c), 0, t), 0, 0));
  const float* p = frame.data<float>();
  double mass = 0, cx = 0, cy = 0;
  for (int64_t r = 0; r < side; ++r)
    for (int64_t s = 0; s < side; ++s) mass += p[r * side + s], cx += s * p[r * side + s], cy += r * p[r * side + s];
  return {cx / mass, cy / mass};
}

}  // namespace

TEST(MovingMnist, SameSeedSameTensorOtherSeedDiffers) {
  const MovingMnistOptions o{.clips = 16, .frames = 5, .canvas = 14, .directions = 4, .speed = 2};
  const VideoSet a = moving_mnist(toy_digits(), o, 7), b = moving_mnist(toy_digits(), o, 7);
  const VideoSet c = moving_mnist(toy_digits(), o, 8);
  EXPECT_EQ(a.clips.shape(), (Shape{16, 5, 1, 14, 14}));
  EXPECT_EQ(max(abs(a.clips - b.clips)).item(), 0.0);
  EXPECT_EQ(max(abs(to(a.labels - b.labels, DType::F32))).item(), 0.0);
  EXPECT_GT(max(abs(a.clips - c.clips)).item(), 0.0);
}

TEST(MovingMnist, LabelsMatchTheMotion) {
  const MovingMnistOptions o{.clips = 32, .frames = 4, .canvas = 16, .directions = 4, .speed = 2};
  const VideoSet v = moving_mnist(toy_digits(), o, 3);
  const int64_t* labels = v.labels.data<int64_t>();
  for (int64_t c = 0; c < o.clips; ++c) {
    const auto [x0, y0] = centre(v.clips, c, 0);
    const auto [x1, y1] = centre(v.clips, c, o.frames - 1);
    const double dx = x1 - x0, dy = y1 - y0;  // rows grow downwards
    // Direction j moves at angle 2 pi j / 4: right, up, left, down; 2 px a frame over 3 frames.
    const double expected_dx[] = {6, 0, -6, 0}, expected_dy[] = {0, -6, 0, 6};
    EXPECT_NEAR(dx, expected_dx[labels[c]], 1e-4) << "clip " << c;
    EXPECT_NEAR(dy, expected_dy[labels[c]], 1e-4) << "clip " << c;
    EXPECT_EQ(v.dx[c], std::lround(expected_dx[labels[c]]));
  }
}

TEST(MovingMnist, RejectsACanvasTooSmall) {
  try {
    moving_mnist(toy_digits(), {.clips = 1, .frames = 8, .canvas = 10, .directions = 4, .speed = 1}, 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit a canvas of 10"), std::string::npos);
  }
}
