#pragma once
// The data conditions of the studies and the pools of samples they draw training sets from.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "experiments/common/dataset.h"

namespace ember::emc {

// A data set and what is done to it. Gaussian inputs keep the data set's sample shape and
// labels (which then carry no information about the inputs); random labels are drawn once
// per pool, so every training set drawn from it is labelled independently of its inputs.
struct DataSpec {
  std::string dataset = "mnist";    // "mnist", "digits", "breast-cancer", "wine", "gaussian-<d>"
  std::string inputs = "real";      // "real", "gaussian", "permuted" (one fixed pixel permutation)
  std::string labels = "semantic";  // "semantic", "random"
  int64_t classes = 0;              // keep the samples of this many original classes; 0 keeps all
  int64_t pool = 0;                 // cut the pool to this many samples; 0 keeps all
  int64_t downsample = 2;           // MNIST only: 2 averages 28x28 to 14x14, 1 keeps 28x28

  // "mnist", "mnist/random-labels", "mnist28/gaussian-inputs/random-labels", "mnist/5-classes/pool-1500", ...
  std::string name() const;
};

// The samples of `classes` (original class indices) with their original labels and
// num_classes: a model keeps its 10-way head, so the same architecture is compared across k.
experiments::Dataset keep_classes(const experiments::Dataset& d, const std::vector<int64_t>& classes);

// The first k classes of one seeded order of all classes, sorted: the subsets are nested
// (the 2 classes are among the 5), so k is all that changes between them.
std::vector<int64_t> chosen_classes(int64_t num_classes, int64_t k, uint64_t seed);

// Loads the data sets once (from the folder the fetch script fills: mnist/0.json ..
// mnist/9.json and sklearn/*.csv) and builds pools on demand. MNIST is downsampled, split into
// a training pool and `held_out` test digits, and standardised with one mean and scale; the
// tabular sets are standardised feature by feature. "gaussian-<d>" is synthetic: 4096 standard
// normal points in d dimensions with random binary labels (Cover's setting).
class DataBank {
 public:
  DataBank(std::filesystem::path dir, int64_t held_out, uint64_t seed);

  // Whether the files of `dataset` are present.
  bool available(const std::string& dataset) const;
  // The file or folder `dataset` is read from.
  std::filesystem::path source(const std::string& dataset) const;
  const experiments::Dataset& pool(const DataSpec& spec);
  // The held-out MNIST digits at `downsample`.
  const experiments::Dataset& mnist_test(int64_t downsample);

 private:
  const experiments::Dataset& base(const std::string& dataset, int64_t downsample);

  std::filesystem::path dir_;
  int64_t held_out_;
  uint64_t seed_;
  std::map<std::string, experiments::Dataset> bases_, pools_, tests_;
};

}  // namespace ember::emc
