#pragma once
// The statistics the claims are decided on, as plain functions of numbers.
#include <vector>

namespace ember::rlhf {

// Least squares y = intercept + slope x, and its R^2 (0 when y is constant).
struct LineFit {
  double intercept = 0, slope = 0, r2 = 0;
};
LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y);

// The smallest x at which the curve y(x) (x increasing) first reaches `target`, interpolating
// linearly in log x between grid points; NaN when it never does.
double first_reaching(const std::vector<double>& x, const std::vector<double>& y, double target);

// Trailing moving average over `window` points (shorter at the start).
std::vector<double> moving_average(const std::vector<double>& v, int window);

}  // namespace ember::rlhf
