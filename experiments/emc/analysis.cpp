#include "experiments/emc/analysis.h"

#include <algorithm>
#include <cmath>

#include "experiments/common/markdown.h"
#include "experiments/common/stats.h"
#include "experiments/emc/studies.h"

namespace ember::emc {

std::string describe_emc(const Measurement& m) {
  return (m.censored() ? "≥ " : "") + experiments::format_mean_sd(m.mean(), m.sd(), 3);
}

int compare(const Measurement& a, const Measurement& b, double tolerance) {
  const double ma = a.mean(), mb = b.mean();
  if (a.censored() && b.censored()) return 0;
  if (a.censored() && ma >= mb) return ma > mb ? 1 : 0;
  if (b.censored() && mb >= ma) return mb > ma ? -1 : 0;
  const double margin = std::max({a.sd(), b.sd(), tolerance * std::min(ma, mb), 1.0});
  if (ma - mb > margin) return 1;
  if (mb - ma > margin) return -1;
  return 0;
}

double ratio(const Measurement& a, const Measurement& b) { return a.mean() / b.mean(); }

std::vector<Point> curve(const Lab& lab, const std::vector<ModelSpec>& models, const std::string& labels) {
  std::vector<Point> out;
  for (const auto& m : models)
    if (const Measurement* r = lab.find(emc_request(m, labels)))
      out.push_back({static_cast<double>(r->params), r->mean(), m.name(), r->censored()});
  std::sort(out.begin(), out.end(), [](const Point& a, const Point& b) { return a.params < b.params; });
  return out;
}

std::vector<GeneralisationPoint> generalisation_points(const Lab& lab) {
  std::vector<GeneralisationPoint> out;
  for (const auto& model : lab.scale().generalisation_models) {
    const Measurement* sem = lab.find(emc_request(model, "semantic"));
    const Measurement* rnd = lab.find(emc_request(model, "random"));
    const Measurement* test = lab.find(test_accuracy_request(model));
    if (!sem || !rnd || !test) continue;
    out.push_back({model.name(), ratio(*sem, *rnd),
                   experiments::mean_of(test->train_accuracy) - experiments::mean_of(test->test_accuracy),
                   sem->censored()});
  }
  return out;
}

std::optional<double> interpolate(const std::vector<Point>& curve, double params) {
  if (curve.size() < 2) return std::nullopt;
  size_t i = 1;
  while (i + 1 < curve.size() && curve[i].params < params) ++i;
  const Point &a = curve[i - 1], &b = curve[i];
  if (a.params == b.params || a.emc <= 0 || b.emc <= 0) return std::nullopt;
  const double t = std::log(params / a.params) / std::log(b.params / a.params);
  return std::exp(std::log(a.emc) + t * (std::log(b.emc) - std::log(a.emc)));
}

}  // namespace ember::emc
