#pragma once
// The data conditions of the studies and the pools of samples they draw training sets from.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "experiments/common/dataset.h"

namespace ember::emc {

// A data set and what is done to it. Gaussian inputs keep the data set's sample shape and
// labels (which then carry no information about the inputs); random labels are drawn once
// per pool, so every training set drawn from it is labelled independently of its inputs.
struct DataSpec {
  std::string dataset = "mnist";    // "mnist", "digits", "breast-cancer", "wine", "gaussian-<d>"
  std::string inputs = "real";      // "real", "gaussian", "permuted" (one fixed pixel permutation)
  std::string labels = "semantic";  // "semantic", "random"
  int64_t classes = 0;              // classes merged into this many groups; 0 keeps them

  // "mnist", "mnist/random-labels", "mnist/gaussian-inputs/random-labels", "mnist/5-classes", ...
  std::string name() const;
};

// Loads the data sets once (from the folder the fetch script fills: mnist/0.json ..
// mnist/9.json and sklearn/*.csv) and builds pools on demand. MNIST is downsampled, split into
// a training pool and `held_out` test digits, and standardised with one mean and scale; the
// tabular sets are standardised feature by feature. "gaussian-<d>" is synthetic: 4096 standard
// normal points in d dimensions with random binary labels (Cover's setting).
class DataBank {
 public:
  DataBank(std::filesystem::path dir, int64_t image_downsample, int64_t held_out, uint64_t seed);

  // Whether the files of `dataset` are present.
  bool available(const std::string& dataset) const;
  // The file or folder `dataset` is read from.
  std::filesystem::path source(const std::string& dataset) const;
  const experiments::Dataset& pool(const DataSpec& spec);
  const experiments::Dataset& mnist_test();

 private:
  const experiments::Dataset& base(const std::string& dataset);

  std::filesystem::path dir_;
  int64_t image_downsample_, held_out_;
  uint64_t seed_;
  std::map<std::string, experiments::Dataset> bases_, pools_;
  std::optional<experiments::Dataset> mnist_test_;
};

}  // namespace ember::emc
