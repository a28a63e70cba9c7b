#pragma once
// Helpers for writing REPORT.md files.
#include <string>
#include <vector>

namespace ember::experiments {

// A GitHub-flavoured Markdown table; '|' inside cells is escaped and newlines become spaces.
std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// v with `significant` significant digits, without exponent for everyday magnitudes
// ("1234", "0.0123", "1.2e-07"); "n/a" for NaN.
std::string format_number(double v, int significant = 3);

// "mean ± sd" (or just the mean when sd is 0 or NaN).
std::string format_mean_sd(double mean, double sd, int significant = 3);

// A duration as "12.3 s", "4 min 05 s" or "1 h 02 min".
std::string format_duration(double seconds);

}  // namespace ember::experiments
