#pragma once
// What a run measures and at which scale, per mode of the skeleton: quick (a few claims at
// fair budgets, in minutes on 2 cores), standard (every claim with 5 seeds, sized for 16
// single-threaded shards) and full (larger models and 28x28 images, for the GPU).
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/common/program.h"
#include "experiments/emc/models.h"
#include "experiments/emc/search.h"

namespace ember::emc {

struct Scale {
  std::string name;               // "quick", "standard", "full"
  std::vector<std::string> studies;  // the studies this mode runs (a named --study overrides it)
  int seeds = 5;                  // replicates per measurement (5 decide a verdict)
  int tune_seeds = 2;             // seeds of the learning-rate tuning
  int64_t downsample = 2;         // MNIST 28x28 averaged to 14x14 (the ViT always sees 28x28)
  int64_t held_out = 1000;        // MNIST digits kept aside for test accuracy
  int64_t max_n = 4096;           // the largest training set a search tries
  int64_t batch_size = 64;
  int64_t epochs = 300;           // the budget of every probe, in epochs, for every optimizer
  SearchOptions search;           // start, tolerance (max_n is set per data set)
  int64_t tune_divisor = 4;       // learning rates are tuned at n = parameters / tune_divisor
  int64_t class_pool = 1500;      // classes study: every k-class pool is cut to this many samples
  int64_t generalisation_n = 512;  // training set of the test-accuracy runs

  ModelSpec mlp, cnn, data_model, cover_model;  // the models most studies compare
  ModelSpec deep_mlp, wide_mlp;                 // width-depth: equal parameters, 3 layers vs 1
  std::vector<ModelSpec> label_models;          // labels and activation studies: the MLP (and the CNN)
  std::vector<std::string> label_conditions;    // labels study: the conditions run (by label); empty: all
  std::vector<std::string> optimizers;          // optimizers study (on the MLP); sgd and gd decide the claim
  std::vector<ModelSpec> mlp_sizes, cnn_sizes, vit_sizes;  // architectures (28x28 for all)
  std::vector<ModelSpec> generalisation_models;
  std::vector<int64_t> cover_dimensions;
};

Scale scale_for(experiments::Mode mode);

}  // namespace ember::emc
