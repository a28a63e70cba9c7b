#pragma once
// Data-set transforms of the experiments: normalisation, downsampling, and the controlled
// corruptions (random labels, Gaussian inputs, a fixed pixel permutation, merged classes).
// Each returns a new data set and draws its randomness from its own seed, so one corruption
// is the same across every run that asks for it with that seed.
#include <cstdint>
#include <utility>
#include <vector>

#include "experiments/common/dataset.h"

namespace ember::experiments {

// Inputs shifted and scaled to mean 0 and standard deviation 1 over the data set: each
// feature on its own (constant features become 0), or all values together (for images, whose
// pixels share one scale).
Dataset standardize(const Dataset& d, bool per_feature = true);

// Images [C, H, W] averaged over factor x factor blocks (H and W must be multiples of factor).
Dataset downsample(const Dataset& d, int64_t factor);

// Labels drawn uniformly from [0, num_classes), independently of the inputs.
Dataset random_labels(const Dataset& d, uint64_t seed);

// Inputs replaced by independent standard normal values (labels kept).
Dataset gaussian_inputs(const Dataset& d, uint64_t seed);

// The features of every sample reordered by one random permutation (the same for all samples).
Dataset permute_features(const Dataset& d, uint64_t seed);

// Classes merged into `groups` blocks of consecutive classes: c -> floor(c * groups / C).
Dataset merge_classes(const Dataset& d, int64_t groups);

// n distinct indices of [0, size), uniformly at random.
std::vector<int64_t> sample_indices(int64_t size, int64_t n, uint64_t seed);

// A random split into (the rest, `held_out` samples).
std::pair<Dataset, Dataset> split(const Dataset& d, int64_t held_out, uint64_t seed);

}  // namespace ember::experiments
