#include "experiments/hybrid/fits.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "experiments/common/powerlaw.h"

namespace ember::hybrid {
namespace {

bool fittable(const Curve& c) { return std::set<double>(c.x.begin(), c.x.end()).size() >= 3; }

}  // namespace

double saving_at_reference(const Curve& hybrid, const Curve& transformer) {
  if (!fittable(hybrid) || !fittable(transformer)) return std::numeric_limits<double>::quiet_NaN();
  const auto h = experiments::fit_power_law(hybrid.x, hybrid.loss);
  const auto t = experiments::fit_power_law(transformer.x, transformer.loss);
  const double x_t = *std::max_element(transformer.x.begin(), transformer.x.end());
  const double reference = experiments::power_law_value(t, x_t);
  const double x_h = experiments::power_law_inverse(h, reference);
  if (std::isnan(x_h)) return -std::numeric_limits<double>::infinity();
  return 1 - x_h / x_t;
}

double scaling_exponent(const Curve& curve) {
  if (!fittable(curve)) return std::numeric_limits<double>::quiet_NaN();
  return experiments::fit_power_law(curve.x, curve.loss).b;
}

FittedLine fitted_line(const Curve& curve, int points) {
  FittedLine line;
  if (!fittable(curve)) return line;
  const auto fit = experiments::fit_power_law(curve.x, curve.loss);
  line.exponent = fit.b;
  const double lo = *std::min_element(curve.x.begin(), curve.x.end());
  const double hi = *std::max_element(curve.x.begin(), curve.x.end());
  for (int i = 0; i < points; ++i) {
    line.x.push_back(lo * std::pow(hi / lo, double(i) / double(points - 1)));
    line.loss.push_back(experiments::power_law_value(fit, line.x.back()));
  }
  return line;
}

}  // namespace ember::hybrid
