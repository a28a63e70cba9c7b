#pragma once
// The lab runs measurements for the studies: EMC searches over seeds, learning-rate tuning
// and test-accuracy runs. Results are cached by what was measured, so studies that share a
// measurement (the reference MLP on random labels appears in several) run it once; every
// training run is logged to fits.csv as it finishes.
#include <iosfwd>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "experiments/common/csv.h"
#include "experiments/common/progress.h"
#include "experiments/emc/config.h"
#include "experiments/emc/data.h"
#include "experiments/emc/trainer.h"

namespace ember::emc {

// One thing a study needs measured: an EMC search, or (test_accuracy) a training run on
// semantic MNIST labels followed by a test on the held-out digits.
struct Request {
  ModelSpec model;
  DataSpec data;
  std::string optimizer = "sgd";
  bool test_accuracy = false;

  std::string key() const;
};

struct Measurement {
  Request request;
  int64_t params = 0;
  double lr = 0;
  int64_t max_n = 0;  // the most samples the search could use
  std::vector<SearchResult> seeds;
  // Probes that did not fit: stopped by the step budget with the loss still falling (the EMC
  // may be budget-limited), or converged without fitting (plateau, flat loss, divergence).
  int failed_still_falling = 0, failed_converged = 0;
  // test_accuracy requests: per seed, at n = generalisation_n.
  std::vector<double> train_accuracy, test_accuracy;
  std::set<std::string> studies;

  std::vector<double> emcs() const;
  double mean() const;
  double sd() const;
  bool censored() const;  // some seed fitted all max_n samples: the EMC is a lower bound
};

class Lab {
 public:
  Lab(Options options, Scale scale, std::ostream& log);
  ~Lab();

  const Options& options() const { return options_; }
  const Scale& scale() const { return scale_; }
  DataBank& data() { return data_; }
  experiments::Progress& progress() { return progress_; }

  // Adds the requests' expected cost to the ETA's plan (each distinct request once).
  void plan(const std::vector<Request>& requests);
  // Runs (or finds in the cache) a request for `study`.
  const Measurement& run(const std::string& study, const Request& request);
  // The result of a request already run, or null.
  const Measurement* find(const Request& request) const;
  const std::vector<const Measurement*>& measurements() const { return order_; }

  // The learning rate for `model` and `optimizer`, tuned on first use (see lab.cpp).
  double learning_rate(const ModelSpec& model, const DataSpec& data, const std::string& optimizer);
  const std::map<std::string, double>& tuned_learning_rates() const { return tuned_; }

  int64_t fits() const { return fits_; }

 private:
  FitResult fit(const std::string& study, const Request& request, double lr, int64_t n, int seed,
                double* test_accuracy = nullptr);
  int64_t budget(const Request& request, int64_t n) const;
  double cost(const Request& request) const;

  Options options_;
  Scale scale_;
  std::ostream& log_;
  DataBank data_;
  experiments::Progress progress_;
  std::unique_ptr<experiments::CsvWriter> csv_;
  std::map<std::string, Measurement> results_;
  std::vector<const Measurement*> order_;
  std::set<std::string> planned_;
  std::map<std::string, double> tuned_;
  int64_t fits_ = 0;
};

}  // namespace ember::emc
