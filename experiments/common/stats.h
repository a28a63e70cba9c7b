#pragma once
// Summary statistics for reporting: mean and spread over seeds, correlations across models.
#include <vector>

namespace ember::experiments {

double mean_of(const std::vector<double>& v);
// The sample standard deviation (n - 1); 0 for fewer than two values.
double stddev_of(const std::vector<double>& v);
// Pearson's r; NaN when fewer than three pairs or when either side is constant.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson's r of the ranks (ties get their average rank).
double spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace ember::experiments
