#pragma once
// The optimizers the program compares, by name: "sgd" (mini-batch, momentum 0.9), "gd"
// (the same update on full-batch gradients), "adam", "adamw" (PyTorch's default decoupled
// weight decay 0.01: without it AdamW is Adam) and "shampoo" (grafted to Adam, momentum 0.9,
// preconditioners refreshed every 10 steps).
#include <memory>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace ember::emc {

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params, double lr);

// Whether `name` trains on full-batch gradients.
bool full_batch(const std::string& name);

// Tuning range of `name`: the usual rate (the middle of the first grid), the smallest and the
// largest rate tuning may try.
struct LearningRateRange {
  double centre, lowest, highest;
};
LearningRateRange learning_rate_range(const std::string& name);

}  // namespace ember::emc
