#include "experiments/common/powerlaw.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "tensor/error.h"

namespace ember::experiments {
namespace {

// The best (a, c) for a fixed exponent b: least squares of y on x^(-b) (and a constant).
PowerLawFit profile(const std::vector<double>& log_x, const std::vector<double>& y, double b,
                    const PowerLawOptions& options) {
  const size_t n = y.size();
  std::vector<double> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = std::exp(-b * log_x[i]);
  PowerLawFit fit{.a = 0, .b = b, .c = 0, .rss = 0, .exponent_at_bound = false};
  if (options.offset) {
    // Centred sums: x^(-b) can be nearly constant, and uncentred normal equations lose it.
    double f_mean = 0, y_mean = 0, sff = 0, sfy = 0;
    for (size_t i = 0; i < n; ++i) f_mean += f[i] / n, y_mean += y[i] / n;
    for (size_t i = 0; i < n; ++i) sff += (f[i] - f_mean) * (f[i] - f_mean), sfy += (f[i] - f_mean) * (y[i] - y_mean);
    fit.a = sff > 0 ? sfy / sff : 0;
    fit.c = y_mean - fit.a * f_mean;
  }
  if (!options.offset || (options.nonnegative_offset && fit.c < 0)) {
    // The problem is a convex quadratic in (a, c): with the bound active its optimum has c = 0.
    double sff = 0, sfy = 0;
    for (size_t i = 0; i < n; ++i) sff += f[i] * f[i], sfy += f[i] * y[i];
    fit.a = sfy / sff;
    fit.c = 0;
  }
  for (size_t i = 0; i < n; ++i) {
    const double r = fit.a * f[i] + fit.c - y[i];
    fit.rss += r * r;
  }
  return fit;
}

double quantile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double at = p * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (at - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

PowerLawFit fit_power_law(const std::vector<double>& x, const std::vector<double>& y, const PowerLawOptions& options) {
  check(x.size() == y.size(), "fit_power_law: ", x.size(), " x values but ", y.size(), " y values");
  check(options.min_exponent > 0 && options.min_exponent < options.max_exponent, "fit_power_law: exponent range [",
        options.min_exponent, ", ", options.max_exponent, "] must be positive and non-empty");
  std::set<double> distinct;
  std::vector<double> log_x(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    check(std::isfinite(x[i]) && x[i] > 0 && std::isfinite(y[i]), "fit_power_law: point ", i, " (", x[i], ", ", y[i],
          ") needs a finite x > 0 and a finite y");
    distinct.insert(x[i]);
    log_x[i] = std::log(x[i]);
  }
  const size_t needed = options.offset ? 3 : 2;
  check(distinct.size() >= needed, "fit_power_law: ", distinct.size(), " distinct x values; the fit needs ", needed);

  // A log-spaced grid finds the basin; golden-section search between the best point's neighbours.
  constexpr int grid = 200;
  const double ratio = std::log(options.max_exponent / options.min_exponent) / (grid - 1);
  auto exponent = [&](int k) {
    return k == grid - 1 ? options.max_exponent : options.min_exponent * std::exp(ratio * k);
  };
  int best = 0;
  std::vector<double> rss(grid);
  for (int k = 0; k < grid; ++k) {
    rss[k] = profile(log_x, y, exponent(k), options).rss;
    if (rss[k] < rss[best]) best = k;
  }
  double lo = exponent(std::max(best - 1, 0)), hi = exponent(std::min(best + 1, grid - 1));
  const double golden = (std::sqrt(5.0) - 1) / 2;
  double b1 = hi - golden * (hi - lo), b2 = lo + golden * (hi - lo);
  double r1 = profile(log_x, y, b1, options).rss, r2 = profile(log_x, y, b2, options).rss;
  while (hi - lo > 1e-13 * hi) {
    if (r1 <= r2) {
      hi = b2, b2 = b1, r2 = r1;
      b1 = hi - golden * (hi - lo);
      r1 = profile(log_x, y, b1, options).rss;
    } else {
      lo = b1, b1 = b2, r1 = r2;
      b2 = lo + golden * (hi - lo);
      r2 = profile(log_x, y, b2, options).rss;
    }
  }
  PowerLawFit fit = profile(log_x, y, (lo + hi) / 2, options);
  if (rss[best] < fit.rss) fit = profile(log_x, y, exponent(best), options);
  const double edge = 1e-9;
  fit.exponent_at_bound = fit.b < options.min_exponent * (1 + edge) || fit.b > options.max_exponent * (1 - edge);
  return fit;
}

double power_law_value(const PowerLawFit& fit, double x) { return fit.a * std::pow(x, -fit.b) + fit.c; }

double power_law_inverse(const PowerLawFit& fit, double loss) {
  const double ratio = fit.a / (loss - fit.c);
  return ratio > 0 && std::isfinite(ratio) ? std::pow(ratio, 1 / fit.b) : std::nan("");
}

PowerLawBootstrap bootstrap_power_law(const std::vector<double>& x, const std::vector<double>& y,
                                      const std::vector<int64_t>& groups, int64_t resamples, uint64_t seed,
                                      double confidence, const PowerLawOptions& options) {
  check(resamples > 0, "bootstrap_power_law: resamples ", resamples, " must be positive");
  check(confidence > 0 && confidence < 1, "bootstrap_power_law: confidence ", confidence, " is not in (0, 1)");
  check(groups.empty() || groups.size() == x.size(), "bootstrap_power_law: ", groups.size(), " groups for ", x.size(),
        " points");
  PowerLawBootstrap out;
  out.fit = fit_power_law(x, y, options);
  // Each resampling unit is a list of point indices: one point, or all the points of a group.
  std::vector<std::vector<size_t>> units;
  if (groups.empty()) {
    for (size_t i = 0; i < x.size(); ++i) units.push_back({i});
  } else {
    std::map<int64_t, std::vector<size_t>> members;
    for (size_t i = 0; i < groups.size(); ++i) members[groups[i]].push_back(i);
    for (auto& [id, points] : members) units.push_back(std::move(points));
    check(units.size() >= 2, "bootstrap_power_law: one group; resampling groups needs at least two");
  }
  std::mt19937_64 rng(seed);
  std::vector<double> as, bs, cs;
  for (int64_t r = 0; r < resamples; ++r) {
    std::vector<double> rx, ry;
    for (size_t u = 0; u < units.size(); ++u)
      for (size_t i : units[rng() % units.size()]) rx.push_back(x[i]), ry.push_back(y[i]);
    try {
      const PowerLawFit f = fit_power_law(rx, ry, options);
      as.push_back(f.a), bs.push_back(f.b), cs.push_back(f.c);
    } catch (const Error&) {
      ++out.failed;  // too few distinct x in this resample
    }
  }
  check(!as.empty(), "bootstrap_power_law: none of ", resamples, " resamples could be fitted");
  const double tail = (1 - confidence) / 2;
  out.a = {quantile(as, tail), quantile(as, 1 - tail)};
  out.b = {quantile(bs, tail), quantile(bs, 1 - tail)};
  out.c = {quantile(cs, tail), quantile(cs, 1 - tail)};
  out.resamples = static_cast<int64_t>(as.size());
  return out;
}

}  // namespace ember::experiments
