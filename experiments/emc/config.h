#pragma once
// What a run measures and at which scale. The quick scale is sized to finish every study on
// two CPU cores in under 20 minutes; the full scale is meant for the GPU.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/emc/models.h"
#include "experiments/emc/search.h"
#include "tensor/device.h"

namespace ember::emc {

struct Scale {
  std::string name;              // "quick", "full" (or a test's own)
  int seeds = 2;                 // independent searches per measurement
  int64_t image_downsample = 2;  // MNIST 28x28 averaged to 14x14 in quick mode
  int64_t held_out = 1000;       // MNIST digits kept aside for test accuracy
  int64_t max_n = 4096;          // the largest training set a search tries
  int64_t batch_size = 64;
  double epochs = 100;             // step budget: epochs of mini-batches ...
  int64_t min_steps = 300;         // ... but at least this many steps
  int64_t max_steps = 3000;        // ... and at most this many
  SearchOptions search;            // start, tolerance, mode (max_n is set per data set)
  int64_t tune_divisor = 8;        // learning rates are tuned at n = parameters / tune_divisor
  bool quick_lr_grid = true;       // three learning rates per optimizer instead of five
  int64_t generalisation_n = 512;  // training set size for the test-accuracy runs

  ModelSpec mlp_reference, cnn_reference, data_model;         // the models most studies compare
  std::vector<ModelSpec> mlp_sizes, cnn_sizes, resnet_sizes, vit_sizes;  // architectures study
  std::vector<ModelSpec> mlp_depths, cnn_depths;              // width vs depth study (widths come from *_sizes)
  std::vector<ModelSpec> generalisation_models;
  std::vector<std::string> optimizer_archs;  // optimizers study: "mlp", "cnn"
  bool architectures_semantic = false;       // also measure semantic labels there
};

Scale quick_scale();
Scale full_scale();

struct Options {
  std::filesystem::path out = "results/emc";
  std::filesystem::path data = "data";
  uint64_t seed = 0;
  Device device = Device::cpu();
  std::vector<std::string> studies;  // empty: all
  double threshold = 1.0;
  bool log_grid = false;
};

}  // namespace ember::emc
