#include "experiments/common/verdict.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "experiments/common/markdown.h"
#include "tensor/error.h"

namespace ember::experiments {

std::string verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Supported: return "supported";
    case Verdict::Contradicted: return "contradicted";
    case Verdict::Inconclusive: return "inconclusive";
  }
  return "inconclusive";
}

std::string format_interval(const Interval& ci, int significant, bool percent) {
  const double scale = percent ? 100 : 1;
  const std::string unit = percent ? "%" : "";
  return format_number(ci.estimate * scale, significant) + unit + " [" + format_number(ci.lo * scale, significant) +
         ", " + format_number(ci.hi * scale, significant) + "]" + unit;
}

Interval bootstrap(int n, const std::function<double(const std::vector<int>&)>& statistic, double confidence,
                   int resamples, uint64_t seed) {
  check(n >= 0, "bootstrap: negative replicate count ", n);
  check(confidence > 0 && confidence < 1, "bootstrap: confidence ", confidence, " is not in (0, 1)");
  check(resamples > 0, "bootstrap: resamples must be positive, got ", resamples);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (n == 0) return {nan, nan, nan, 0};
  std::vector<int> all(n);
  for (int i = 0; i < n; ++i) all[i] = i;
  Interval ci{statistic(all), nan, nan, n};
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int> pick(0, n - 1);
  std::vector<double> stats;
  stats.reserve(resamples);
  std::vector<int> draw(n);
  for (int r = 0; r < resamples; ++r) {
    for (auto& i : draw) i = pick(gen);
    const double s = statistic(draw);
    if (std::isfinite(s)) stats.push_back(s);
  }
  if (stats.empty()) return ci;
  std::sort(stats.begin(), stats.end());
  auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(stats.size() - 1);
    const size_t i = static_cast<size_t>(std::floor(pos));
    const size_t j = std::min(i + 1, stats.size() - 1);
    return stats[i] + (pos - static_cast<double>(i)) * (stats[j] - stats[i]);
  };
  ci.lo = quantile((1 - confidence) / 2);
  ci.hi = quantile(1 - (1 - confidence) / 2);
  return ci;
}

namespace {

void check_pairs(const char* what, const std::vector<double>& a, const std::vector<double>& b) {
  check(a.size() == b.size(), what, ": ", a.size(), " and ", b.size(), " replicates are not paired");
}

}  // namespace

Interval bootstrap_mean(const std::vector<double>& values, double confidence) {
  return bootstrap(
      static_cast<int>(values.size()),
      [&](const std::vector<int>& idx) {
        double s = 0;
        for (int i : idx) s += values[i];
        return s / static_cast<double>(idx.size());
      },
      confidence);
}

Interval paired_difference(const std::vector<double>& a, const std::vector<double>& b, double confidence) {
  check_pairs("paired_difference", a, b);
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return bootstrap_mean(d, confidence);
}

Interval paired_relative_saving(const std::vector<double>& a, const std::vector<double>& b, double confidence) {
  check_pairs("paired_relative_saving", a, b);
  return bootstrap(
      static_cast<int>(a.size()),
      [&](const std::vector<int>& idx) {
        double sa = 0, sb = 0;
        for (int i : idx) sa += a[i], sb += b[i];
        return sb == 0 ? std::numeric_limits<double>::quiet_NaN() : 1 - sa / sb;
      },
      confidence);
}

Decision decide(const Interval& effect, const Region& claimed, const std::string& budget_note) {
  check(claimed.lo < claimed.hi, "decide: empty claimed region (", claimed.lo, ", ", claimed.hi, ")");
  const std::string ci = format_interval(effect);
  const std::string region = "(" + (std::isinf(claimed.lo) ? std::string("-inf") : format_number(claimed.lo)) + ", " +
                             (std::isinf(claimed.hi) ? std::string("inf") : format_number(claimed.hi)) + ")";
  if (!budget_note.empty()) return {Verdict::Inconclusive, "limited by its budget: " + budget_note};
  if (effect.n < kMinReplicates)
    return {Verdict::Inconclusive, std::to_string(effect.n) + " replicates, fewer than the " +
                                       std::to_string(kMinReplicates) + " the rule needs (effect " + ci + ")"};
  if (!std::isfinite(effect.lo) || !std::isfinite(effect.hi))
    return {Verdict::Inconclusive, "no finite interval (effect " + ci + ")"};
  if (effect.lo > claimed.lo && effect.hi < claimed.hi)
    return {Verdict::Supported, "interval " + ci + " inside the claimed " + region};
  if (effect.hi <= claimed.lo || effect.lo >= claimed.hi)
    return {Verdict::Contradicted, "interval " + ci + " outside the claimed " + region};
  return {Verdict::Inconclusive, "interval " + ci + " straddles an edge of the claimed " + region};
}

std::string verdict_rule_text() {
  return "**Verdict rule** (the same in every ember experiment). Each claim names an effect (a paired "
         "difference, a relative saving, a slope, a correlation) and the region of values it asserts: "
         "above 0 for \"A beats B\", 0.15 to 0.20 for \"15-20% fewer\". The effect is measured over "
         "independent replicates (seeds, or repeated timings) and given a 95% percentile bootstrap interval "
         "(4,000 resamples, pairs resampled together). The claim is **supported** when the whole interval "
         "lies inside the claimed region, **contradicted** when the whole interval lies outside it, and "
         "**inconclusive** when the interval straddles an edge of the region, when fewer than " +
         std::to_string(kMinReplicates) +
         " replicates were run, or when the measurement was limited by its budget (training stopped by a step "
         "or time budget before it converged, a run out of memory). A budget-limited result is never counted "
         "against a claim.";
}

}  // namespace ember::experiments
