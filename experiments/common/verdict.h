#pragma once
// The one verdict rule of every experiment program. A claim names an effect (a difference of
// paired measurements, a ratio, a slope, a correlation) and the region of values it asserts:
// (0, inf) for "A beats B", [0.15, 0.20] for "15-20% fewer FLOPs". We measure the effect over
// independent replicates (seeds, or repeated timings) and take a 95% bootstrap confidence
// interval of it; then
//   - inconclusive when the measurement was limited by its budget (training stopped by the
//     step or time budget before converging, a run out of memory), or rests on fewer than
//     kMinReplicates replicates;
//   - supported when the whole interval lies inside the claimed region;
//   - contradicted when the whole interval lies outside it;
//   - inconclusive otherwise (the interval straddles an edge of the region).
// verdict_rule_text() states this in every REPORT.md.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace ember::experiments {

inline constexpr int kMinReplicates = 5;
inline constexpr double kConfidence = 0.95;
inline constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Verdict { Supported, Contradicted, Inconclusive };
std::string verdict_name(Verdict v);  // "supported", "contradicted", "inconclusive"

// An estimate with its confidence interval [lo, hi] over n replicates.
struct Interval {
  double estimate = 0, lo = 0, hi = 0;
  int n = 0;
};
// "0.12 [0.05, 0.20]" with `significant` digits; with a percent sign when percent is set.
std::string format_interval(const Interval& ci, int significant = 3, bool percent = false);

// Percentile bootstrap of a statistic of n replicates: the statistic is computed on `resamples`
// draws of n indices with replacement (fixed generator seed, so a report is reproducible).
// A statistic that returns NaN on a resample (a correlation of a constant draw) skips it.
Interval bootstrap(int n, const std::function<double(const std::vector<int>& indices)>& statistic,
                   double confidence = kConfidence, int resamples = 4000, uint64_t seed = 20240601);
// The mean of values, with its bootstrap interval.
Interval bootstrap_mean(const std::vector<double>& values, double confidence = kConfidence);
// The mean of the paired differences a[i] - b[i] (replicate i of both conditions shares its
// seed: data subset, initial weights), with its bootstrap interval.
Interval paired_difference(const std::vector<double>& a, const std::vector<double>& b,
                           double confidence = kConfidence);
// 1 - mean(a) / mean(b) over paired replicates, resampled in pairs: the relative saving of a
// against b ("a needs 20% fewer FLOPs than b" is 0.20).
Interval paired_relative_saving(const std::vector<double>& a, const std::vector<double>& b,
                                double confidence = kConfidence);

// The claim's region of effect values: lo < effect < hi (use kInf / -kInf for open ends).
struct Region {
  double lo = -kInf, hi = kInf;
};
inline Region above(double x) { return {x, kInf}; }
inline Region below(double x) { return {-kInf, x}; }

struct Decision {
  Verdict verdict = Verdict::Inconclusive;
  std::string why;  // one sentence: the interval against the region, or what limited the measurement
};
// The rule above. budget_note, when not empty, says what limited the measurement and makes the
// verdict inconclusive whatever the interval.
Decision decide(const Interval& effect, const Region& claimed, const std::string& budget_note = "");

// The rule in words, for REPORT.md.
std::string verdict_rule_text();

}  // namespace ember::experiments
