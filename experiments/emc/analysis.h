#pragma once
// Reading measurements back for the plots and the report: lookups, comparisons that respect
// the noise over seeds and censored searches, and curves of EMC against parameter count.
#include <optional>
#include <string>
#include <vector>

#include "experiments/emc/lab.h"

namespace ember::emc {

// "1234 ± 56", with "≥ " when the search was censored (the EMC is a lower bound).
std::string describe_emc(const Measurement& m);

// +1 when a's EMC is clearly above b's, -1 clearly below, 0 when the difference is within the
// noise: the larger seed spread or the search's resolution (tolerance times the smaller mean).
// A censored measurement is at least its value: it is above any uncensored one that is not
// higher; two censored ones cannot be ordered (0).
int compare(const Measurement& a, const Measurement& b, double tolerance);

// a's mean EMC over b's.
double ratio(const Measurement& a, const Measurement& b);

struct Point {
  double params, emc;
  std::string name;
  bool censored;
};

// The measured points of `models` on `labels` MNIST (sgd), sorted by parameter count; models not
// measured are left out.
std::vector<Point> curve(const Lab& lab, const std::vector<ModelSpec>& models, const std::string& labels);

// One model of the generalisation study with everything measured: the EMC gain of semantic
// over random labels and the generalisation gap (train - test accuracy) at generalisation_n.
struct GeneralisationPoint {
  std::string name;
  double gain, gap;
  bool censored;  // the semantic EMC is a lower bound, and so is the gain
};
std::vector<GeneralisationPoint> generalisation_points(const Lab& lab);

// The EMC the curve predicts at `params` by linear interpolation in log-log coordinates
// (extrapolating from the end segments); nullopt for fewer than two points.
std::optional<double> interpolate(const std::vector<Point>& curve, double params);

}  // namespace ember::emc
