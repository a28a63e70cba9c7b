#pragma once
// Training one model on one fixed training set until it fits it (training accuracy reaches
// the threshold), it has converged without fitting, or its budget runs out. The budget is in
// epochs, the same for every optimizer: a mini-batch optimizer takes ceil(n / batch) steps an
// epoch, full-batch GD one, so both see every sample equally often.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "nn/module.h"

namespace ember::emc {

struct TrainConfig {
  std::string optimizer = "sgd";  // a name for make_optimizer
  double lr = 0.05;               // the peak of the cosine schedule over the whole budget
  int64_t batch_size = 64;        // full-batch optimizers ignore it
  int64_t epochs = 100;           // the budget
  double threshold = 1.0;         // the training accuracy that counts as fitting
  // Convergence (the only way a run counts as "failed to fit"): the loss has not fallen by
  // plateau_tolerance (relative) over the last plateau_fraction of the epochs run (at least
  // min_window epochs), AND the full-batch gradient norm is below gradient_tolerance times
  // its value at initialisation. Checked every check_every epochs once 40% of the budget is
  // spent, and at the end of the budget.
  double plateau_fraction = 0.25;
  int64_t min_window = 10;
  double plateau_tolerance = 0.01;
  double gradient_tolerance = 0.05;
  int64_t check_every = 5;
  uint64_t seed = 0;  // mini-batch order
};

enum class Outcome {
  Fit,        // reached the threshold
  Converged,  // loss plateau and small gradient without fitting: a capacity failure
  Budget,     // the epochs ran out before fitting or converging: says nothing about capacity
  Diverged,   // the loss became non-finite: an optimisation failure, not a capacity one
};
std::string outcome_name(Outcome o);  // "fit", "converged", "budget", "diverged"

struct FitResult {
  Outcome outcome = Outcome::Budget;
  int64_t epochs = 0, steps = 0;  // run
  double train_accuracy = 0;      // on the whole training set
  double loss = 0;                // mean cross-entropy over the last epoch
  double gradient_ratio = 0;      // last full-batch gradient norm / the one at initialisation
  double loss_fall = 1;           // relative fall of the best loss over the last plateau window
  bool fit() const { return outcome == Outcome::Fit; }
};

// Whether a run that did not fit says the model cannot fit the set: only a converged one.
bool capacity_failure(const FitResult& r);

// Mini-batch steps in one epoch of n samples: 1 for full-batch optimizers.
int64_t steps_per_epoch(const std::string& optimizer, int64_t n, int64_t batch_size);

// Called at the end of every epoch.
using TrainObserver = std::function<void(int64_t epoch, int64_t budget, double accuracy, double loss)>;

// Trains `model` (already initialised) on inputs x [n, ...] and labels y [n] with softmax
// cross-entropy, no weight decay (but AdamW's own) and no augmentation.
FitResult train_to_fit(nn::Module& model, const Tensor& x, const Tensor& y, const TrainConfig& config,
                       const TrainObserver& observer = {});

// (accuracy, mean cross-entropy) of `model` in eval mode, in chunks of `chunk` samples.
std::pair<double, double> evaluate(nn::Module& model, const Tensor& x, const Tensor& y, int64_t chunk = 2048);

// The norm of the full-batch gradient of the mean cross-entropy (train mode, chunked).
double gradient_norm(nn::Module& model, const Tensor& x, const Tensor& y, int64_t chunk = 2048);

}  // namespace ember::emc
