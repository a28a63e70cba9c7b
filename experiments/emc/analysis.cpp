#include "experiments/emc/analysis.h"

#include <algorithm>
#include <cmath>

#include "experiments/common/markdown.h"

namespace ember::emc {

using experiments::format_number;
using experiments::Interval;

int Measured::limited() const {
  return static_cast<int>(std::count_if(bounds.begin(), bounds.end(),
                                        [](const std::string& b) { return b == "budget" || b == "diverged"; }));
}

int Measured::censored_count() const { return static_cast<int>(std::count(censored.begin(), censored.end(), true)); }

std::string Measured::describe() const {
  if (emc.empty()) return "—";
  const Interval ci = experiments::bootstrap_mean(emc);
  return (censored_count() ? "≥ " : "") + format_number(ci.estimate, 3) + " [" + format_number(ci.lo, 3) + ", " +
         format_number(ci.hi, 3) + "] (" + std::to_string(emc.size()) + " seeds)";
}

Results::Results(const experiments::Records& records) {
  for (const auto& [study, rows] : records)
    for (const auto& r : rows) {
      const std::string key = r.value("key", "");
      Measured& m = by_key_[key];
      if (m.key.empty()) {
        m.key = key;
        m.model = r.value("model", "");
        m.arch = r.value("arch", "");
        m.data = r.value("data", "");
        m.optimizer = r.value("optimizer", "");
        m.params = r.value("params", int64_t{0});
        m.lr = r.value("lr", 0.0);
        m.lr_grid = r.value("lr_grid", "");
        m.lr_at_limit = r.value("lr_at_limit", false);
        m.max_n = r.value("max_n", int64_t{0});
        m.epochs = r.value("epochs", int64_t{0});
        m.test = r.value("kind", "") == "test";
        order_.push_back(&m);
      }
      m.seeds.push_back(r.value("seed", 0));
      if (m.test) {
        m.train_accuracy.push_back(r.value("train_accuracy", 0.0));
        m.test_accuracy.push_back(r.value("test_accuracy", 0.0));
        continue;
      }
      m.emc.push_back(r.value("emc", 0.0));
      m.bounds.push_back(r.value("bound", "none"));
      m.censored.push_back(r.value("censored", false));
      m.probes += r.value("probes", 0);
      m.converged += r.value("converged", 0);
      m.budget += r.value("budget", 0);
      m.diverged += r.value("diverged", 0);
    }
}

const Measured* Results::find(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second;
}

std::string Comparison::text() const {
  return "×" + format_number(std::exp2(log2_ratio.estimate), 3) + " [" + format_number(std::exp2(log2_ratio.lo), 3) +
         ", " + format_number(std::exp2(log2_ratio.hi), 3) + "]";
}

Comparison compare(const Measured& a, const Measured& b, Claimed claimed, bool per_param) {
  // Pairs by seed: seed i of both shares its subsets and initial weights.
  std::vector<double> diffs;
  for (size_t i = 0; i < a.seeds.size(); ++i) {
    const auto j = std::find(b.seeds.begin(), b.seeds.end(), a.seeds[i]) - b.seeds.begin();
    if (j == static_cast<long>(b.seeds.size())) continue;
    const double ea = std::max(a.emc[i], 1.0), eb = std::max(b.emc[j], 1.0);
    const double scale = per_param ? static_cast<double>(b.params) / static_cast<double>(a.params) : 1.0;
    diffs.push_back(std::log2(ea / eb * scale));
  }
  Comparison c;
  c.log2_ratio = experiments::bootstrap_mean(diffs);
  std::vector<std::string> limits;
  for (const Measured* m : {&a, &b})
    if (m->limited())
      limits.push_back(m->model + " on " + m->data + " (" + m->optimizer + "): " + std::to_string(m->limited()) + " of " +
                       std::to_string(m->emc.size()) + " seeds bounded by a probe that ran out of its " +
                       std::to_string(m->epochs) + " epochs before converging, or diverged");
  const bool a_censored = a.censored_count() > 0, b_censored = b.censored_count() > 0;
  if ((a_censored && claimed != Claimed::AAbove) || (b_censored && claimed != Claimed::ABelow) ||
      (a_censored && b_censored))
    limits.push_back("a search fitted every sample it could use (its EMC is only a lower bound)");
  for (const auto& l : limits) c.limit += (c.limit.empty() ? "" : "; ") + l;
  return c;
}

experiments::Decision decide(const Comparison& c, Claimed claimed, double level_log2) {
  const experiments::Region region = claimed == Claimed::AAbove   ? experiments::above(0)
                                     : claimed == Claimed::ABelow ? experiments::below(0)
                                                                  : experiments::Region{-level_log2, level_log2};
  experiments::Decision d = experiments::decide(c.log2_ratio, region, c.limit);
  return d;
}

}  // namespace ember::emc
