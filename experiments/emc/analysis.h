#pragma once
// Reading the records back: one measurement per request with its per-seed EMCs, and paired
// comparisons of two measurements by the one verdict rule (experiments/common/verdict.h).
#include <map>
#include <string>
#include <vector>

#include "experiments/common/program.h"
#include "experiments/common/verdict.h"

namespace ember::emc {

struct Measured {
  std::string key, model, arch, data, optimizer, lr_grid;
  int64_t params = 0, max_n = 0, epochs = 0;
  double lr = 0;
  bool lr_at_limit = false, test = false;
  std::vector<int> seeds;
  std::vector<double> emc;                // per seed (emc kind)
  std::vector<std::string> bounds;        // per seed: "converged", "budget", "diverged", "none"
  std::vector<bool> censored;             // per seed
  std::vector<double> train_accuracy, test_accuracy;  // per seed (test kind)
  int probes = 0, converged = 0, budget = 0, diverged = 0;

  int limited() const;          // seeds whose EMC is bounded by a budget or diverged probe
  int censored_count() const;   // seeds that fitted every sample they could use
  std::string describe() const;  // "612 [580, 650] (5 seeds)" with "≥" where censored
};

class Results {
 public:
  explicit Results(const experiments::Records& records);
  const Measured* find(const std::string& key) const;
  const std::vector<const Measured*>& all() const { return order_; }

 private:
  std::map<std::string, Measured> by_key_;
  std::vector<const Measured*> order_;
};

// The paired comparison of a against b: the mean over seeds of log2(a / b) (per_param: of
// the EMCs divided by each model's parameter count), with its bootstrap interval, and what
// limits it: budget-limited or diverged bounds in either, or censoring that could flip the
// claimed direction (a censored a is only a lower bound: harmless where a > b is claimed).
struct Comparison {
  experiments::Interval log2_ratio;
  std::string limit;  // empty when nothing limits it
  std::string text() const;  // "x1.23 [1.10, 1.40]"
};
enum class Claimed { AAbove, ABelow, Level };
Comparison compare(const Measured& a, const Measured& b, Claimed claimed, bool per_param = false);

// The decision for a comparison: log2 ratio in (0, inf) for AAbove, (-inf, 0) for ABelow,
// within ±level_log2 for Level.
experiments::Decision decide(const Comparison& c, Claimed claimed, double level_log2 = 0.15);

}  // namespace ember::emc
