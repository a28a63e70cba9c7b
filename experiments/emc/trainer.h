#pragma once
// Training one model on one fixed training set until it fits it (training accuracy reaches
// the threshold), the loss stops falling, or the step budget runs out.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "nn/module.h"

namespace ember::emc {

struct TrainConfig {
  std::string optimizer = "sgd";  // a name for make_optimizer
  double lr = 0.05;               // the peak of the cosine schedule over `steps`
  int64_t batch_size = 64;        // full-batch optimizers ignore it
  int64_t steps = 1000;           // the step budget
  double threshold = 1.0;         // the training accuracy that counts as fitting
  // A run whose loss has not fallen by 1% over this fraction of the budget has converged
  // without fitting and stops early (checked once 40% of the budget is spent).
  double plateau_fraction = 0.25;
  uint64_t seed = 0;  // mini-batch order
};

struct FitResult {
  bool fit = false;
  int64_t steps = 0;          // steps taken
  double train_accuracy = 0;  // on the whole training set
  double loss = 0;            // mean cross-entropy over the last epoch
  std::string outcome;        // "fit", "not fit: budget, loss still falling", "not fit: plateau",
                              // "not fit: budget, loss flat", "not fit: diverged"
};

// The outcome of a run that ran out of steps while its loss was still falling.
inline constexpr const char* kStillFalling = "not fit: budget, loss still falling";

// Called at the end of every epoch (every step for full-batch training).
using TrainObserver = std::function<void(int64_t step, int64_t budget, double accuracy, double loss)>;

// Trains `model` (already initialised) on inputs x [n, ...] and labels y [n] with softmax
// cross-entropy, no weight decay (but AdamW's own) and no augmentation.
FitResult train_to_fit(nn::Module& model, const Tensor& x, const Tensor& y, const TrainConfig& config,
                       const TrainObserver& observer = {});

// (accuracy, mean cross-entropy) of `model` in eval mode, in chunks of `chunk` samples.
std::pair<double, double> evaluate(nn::Module& model, const Tensor& x, const Tensor& y, int64_t chunk = 2048);

}  // namespace ember::emc
