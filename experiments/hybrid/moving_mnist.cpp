#include "experiments/hybrid/moving_mnist.h"

#include <cmath>
#include <numbers>
#include <random>

#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::hybrid {

VideoSet moving_mnist(const experiments::Dataset& digits, const MovingMnistOptions& o, uint64_t seed) {
  check(digits.is_image() && digits.sample_shape[0] == 1 && digits.sample_shape[1] == digits.sample_shape[2],
        "moving_mnist: digits must be single-channel square images");
  check(digits.size() > 0, "moving_mnist: no digits to draw from");
  check(o.clips > 0 && o.frames >= 2, "moving_mnist: needs clips >= 1 and frames >= 2");
  check(o.directions >= 2, "moving_mnist: needs at least 2 directions, got ", o.directions);
  check(o.speed > 0, "moving_mnist: speed must be positive");
  const int64_t side = digits.sample_shape[1], travel = std::lround(o.speed * double(o.frames - 1));
  check(o.canvas >= side + travel, "moving_mnist: a ", side, "-pixel digit moving ", travel,
        " pixels does not fit a canvas of ", o.canvas, " (needs >= ", side + travel, ")");
  std::mt19937_64 rng(seed);
  // rng() % n: the generator's output is fixed by the standard, the distributions are not.
  auto draw = [&rng](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  const int64_t frame = o.canvas * o.canvas;
  std::vector<float> pixels(static_cast<size_t>(o.clips * o.frames * frame), 0.0f);
  std::vector<int64_t> labels(static_cast<size_t>(o.clips));
  VideoSet set;
  for (int64_t c = 0; c < o.clips; ++c) {
    const int64_t j = draw(o.directions), d = draw(digits.size());
    const double angle = 2 * std::numbers::pi * double(j) / double(o.directions);
    const double vx = o.speed * std::cos(angle), vy = -o.speed * std::sin(angle);  // rows grow downwards
    // Offsets of frame t from frame 0, rounded; the start keeps every frame on the canvas.
    std::vector<int64_t> ox(o.frames), oy(o.frames);
    int64_t min_x = 0, max_x = 0, min_y = 0, max_y = 0;
    for (int64_t t = 0; t < o.frames; ++t) {
      ox[t] = std::lround(vx * double(t));
      oy[t] = std::lround(vy * double(t));
      min_x = std::min(min_x, ox[t]), max_x = std::max(max_x, ox[t]);
      min_y = std::min(min_y, oy[t]), max_y = std::max(max_y, oy[t]);
    }
    const int64_t x0 = -min_x + draw(o.canvas - side - (max_x - min_x) + 1);
    const int64_t y0 = -min_y + draw(o.canvas - side - (max_y - min_y) + 1);
    const float* image = digits.x.data() + d * side * side;
    for (int64_t t = 0; t < o.frames; ++t) {
      float* out = pixels.data() + (c * o.frames + t) * frame;
      for (int64_t r = 0; r < side; ++r)
        for (int64_t s = 0; s < side; ++s) out[(y0 + oy[t] + r) * o.canvas + x0 + ox[t] + s] = image[r * side + s];
    }
    labels[c] = j;
    set.digit.push_back(d);
    set.dx.push_back(ox.back());
    set.dy.push_back(oy.back());
  }
  set.clips = from_vector(pixels, {o.clips, o.frames, 1, o.canvas, o.canvas});
  set.labels = from_vector(labels, {o.clips});
  return set;
}

}  // namespace ember::hybrid
