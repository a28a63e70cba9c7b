#include "experiments/rlhf/analysis.h"

#include <cmath>
#include <limits>

#include "tensor/error.h"

namespace ember::rlhf {

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  check(x.size() == y.size() && x.size() >= 2, "fit_line: needs two or more (x, y) points, got ", x.size(), " and ",
        y.size());
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i] / n, my += y[i] / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  check(sxx > 0, "fit_line: all x are equal");
  LineFit f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  f.r2 = syy > 0 ? sxy * sxy / (sxx * syy) : 0;
  return f;
}

double first_reaching(const std::vector<double>& x, const std::vector<double>& y, double target) {
  check(x.size() == y.size() && !x.empty(), "first_reaching: x and y must be non-empty and of one length");
  if (y[0] >= target) return x[0];
  for (size_t i = 1; i < x.size(); ++i)
    if (y[i] >= target) {
      const double t = (target - y[i - 1]) / (y[i] - y[i - 1]);
      return std::exp(std::log(x[i - 1]) + t * (std::log(x[i]) - std::log(x[i - 1])));
    }
  return std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> moving_average(const std::vector<double>& v, int window) {
  check(window >= 1, "moving_average: window must be positive");
  std::vector<double> out(v.size());
  double total = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    total += v[i];
    if (i >= static_cast<size_t>(window)) total -= v[i - window];
    out[i] = total / static_cast<double>(std::min(i + 1, static_cast<size_t>(window)));
  }
  return out;
}

}  // namespace ember::rlhf
