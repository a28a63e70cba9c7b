#pragma once
// The lab runs the measurements of one process: an EMC search for one seed of one request, or
// a test-accuracy run, each returned as a record (one CSV row). Learning rates are tuned on
// first use and kept for the process, so the jobs of a shard that share a model tune it once;
// tuning is deterministic, so every shard tunes the same model to the same rate.
#include <map>
#include <string>

#include "experiments/common/program.h"
#include "experiments/emc/config.h"
#include "experiments/emc/data.h"
#include "experiments/emc/trainer.h"
#include "experiments/emc/tuning.h"

namespace ember::emc {

// One thing a study needs measured: an EMC search, or (test_accuracy) a training run on
// semantic MNIST labels followed by a test on the held-out digits.
struct Request {
  ModelSpec model;
  DataSpec data;
  std::string optimizer = "sgd";
  bool test_accuracy = false;

  std::string key() const;  // "mlp[16]|mnist/random-labels|sgd", "...|test"
};

// The epochs of every probe of `request`: the scale's budget whatever the model and optimizer.
int64_t budget_epochs(const Scale& scale, const Request& request);

class Lab {
 public:
  Lab(const experiments::RunOptions& options, Scale scale);

  // One seed's EMC search (seed 0, 1, ...): params, lr, emc, censored, probe counts, and the
  // bound: the outcome of the probe at its first failure, which bounds the EMC from above
  // ("converged" is a capacity measurement; "budget" and "diverged" are not; "none" when no
  // probe failed and the EMC is a lower bound).
  experiments::Record measure(const Request& request, int seed, experiments::Progress& progress);
  // One seed's train and test accuracy at scale.generalisation_n (semantic MNIST).
  experiments::Record test_run(const Request& request, int seed, experiments::Progress& progress);

  // The learning rate of `model` with `optimizer` on `data`'s data set (tuned on first use).
  const TunedRate& learning_rate(const ModelSpec& model, const DataSpec& data, const std::string& optimizer,
                                 experiments::Progress& progress);
  DataBank& data() { return data_; }

 private:
  FitResult fit(const Request& request, double lr, int64_t n, uint64_t run_seed, experiments::Progress& progress,
                nn::ModulePtr* trained = nullptr);

  experiments::RunOptions options_;
  Scale scale_;
  DataBank data_;
  std::map<std::string, TunedRate> tuned_;
};

}  // namespace ember::emc
