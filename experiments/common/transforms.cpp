#include "experiments/common/transforms.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "tensor/error.h"

namespace ember::experiments {

Dataset standardize(const Dataset& d, bool per_feature) {
  Dataset out = d;
  // Feature j is the column j of an [n, f] matrix; all together, one column of n * f values.
  const int64_t f = per_feature ? d.features() : 1, n = per_feature ? d.size() : d.size() * d.features();
  for (int64_t j = 0; j < f; ++j) {
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      double v = d.x[i * f + j];
      sum += v;
      sum_sq += v * v;
    }
    double mean = sum / n, var = std::max(0.0, sum_sq / n - mean * mean);
    double scale = var > 1e-12 ? 1 / std::sqrt(var) : 0;
    for (int64_t i = 0; i < n; ++i) out.x[i * f + j] = static_cast<float>((d.x[i * f + j] - mean) * scale);
  }
  return out;
}

Dataset downsample(const Dataset& d, int64_t factor) {
  check(d.is_image(), "downsample: ", d.name, " has sample shape ", d.sample_shape, ", not [C, H, W]");
  const int64_t c = d.sample_shape[0], h = d.sample_shape[1], w = d.sample_shape[2];
  check(factor > 0 && h % factor == 0 && w % factor == 0, "downsample: ", d.name, ": ", d.sample_shape,
        " is not divisible by ", factor);
  const int64_t oh = h / factor, ow = w / factor;
  Dataset out{.name = d.name, .sample_shape = {c, oh, ow}, .x = {}, .y = d.y, .num_classes = d.num_classes};
  out.x.resize(d.size() * c * oh * ow);
  const float inv = 1.0f / static_cast<float>(factor * factor);
  for (int64_t i = 0; i < d.size() * c; ++i) {
    const float* src = d.x.data() + i * h * w;
    float* dst = out.x.data() + i * oh * ow;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) dst[(y / factor) * ow + x / factor] += src[y * w + x] * inv;
  }
  return out;
}

Dataset random_labels(const Dataset& d, uint64_t seed) {
  Dataset out = d;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> label(0, d.num_classes - 1);
  for (auto& y : out.y) y = label(rng);
  return out;
}

Dataset gaussian_inputs(const Dataset& d, uint64_t seed) {
  Dataset out = d;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  for (auto& v : out.x) v = normal(rng);
  return out;
}

Dataset permute_features(const Dataset& d, uint64_t seed) {
  const int64_t f = d.features();
  std::vector<int64_t> perm(f);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(seed));
  Dataset out = d;
  for (int64_t i = 0; i < d.size(); ++i)
    for (int64_t j = 0; j < f; ++j) out.x[i * f + j] = d.x[i * f + perm[j]];
  return out;
}

Dataset merge_classes(const Dataset& d, int64_t groups) {
  check(groups >= 1 && groups <= d.num_classes, "merge_classes: ", d.name, ": cannot merge ", d.num_classes,
        " classes into ", groups, " groups");
  Dataset out = d;
  out.num_classes = groups;
  for (auto& y : out.y) y = y * groups / d.num_classes;
  return out;
}

std::vector<int64_t> sample_indices(int64_t size, int64_t n, uint64_t seed) {
  check(n >= 0 && n <= size, "sample_indices: cannot draw ", n, " distinct indices from ", size);
  std::vector<int64_t> all(size);
  std::iota(all.begin(), all.end(), 0);
  std::mt19937_64 rng(seed);
  // A partial Fisher-Yates shuffle: only the first n positions are needed.
  for (int64_t i = 0; i < n; ++i) {
    std::uniform_int_distribution<int64_t> pick(i, size - 1);
    std::swap(all[i], all[pick(rng)]);
  }
  all.resize(n);
  return all;
}

std::pair<Dataset, Dataset> split(const Dataset& d, int64_t held_out, uint64_t seed) {
  check(held_out >= 0 && held_out <= d.size(), "split: cannot hold out ", held_out, " of ", d.name, "'s ", d.size(),
        " samples");
  std::vector<int64_t> order = sample_indices(d.size(), d.size(), seed);
  std::vector<int64_t> rest(order.begin() + held_out, order.end()), test(order.begin(), order.begin() + held_out);
  return {subset(d, rest), subset(d, test)};
}

}  // namespace ember::experiments
