#include "experiments/common/markdown.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace ember::experiments {
namespace {

std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string row_of(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const auto& c : cells) out += " " + cell(c) + " |";
  return out + "\n";
}

}  // namespace

std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::string out = row_of(header) + "|";
  for (size_t i = 0; i < header.size(); ++i) out += " --- |";
  out += "\n";
  for (const auto& r : rows) out += row_of(r);
  return out;
}

std::string format_number(double v, int significant) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double magnitude = std::fabs(v);
  if (magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e7)) {
    std::ostringstream os;
    os.precision(significant - 1);
    os << std::scientific << v;
    return os.str();
  }
  // Fixed notation with enough decimals for `significant` digits, but never fewer than the integer part.
  const int digits_before = magnitude >= 1 ? static_cast<int>(std::floor(std::log10(magnitude))) + 1 : 0;
  int decimals = std::max(0, significant - digits_before);
  if (magnitude > 0 && magnitude < 1) decimals = significant - static_cast<int>(std::floor(std::log10(magnitude))) - 1;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  return buffer;
}

std::string format_mean_sd(double mean, double sd, int significant) {
  if (!(sd > 0)) return format_number(mean, significant);
  return format_number(mean, significant) + " ± " + format_number(sd, 2);
}

std::string format_duration(double seconds) {
  char buffer[64];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1f s", seconds);
  } else if (seconds < 3600) {
    const int s = static_cast<int>(std::lround(seconds));
    std::snprintf(buffer, sizeof buffer, "%d min %02d s", s / 60, s % 60);
  } else {
    const int m = static_cast<int>(std::lround(seconds / 60));
    std::snprintf(buffer, sizeof buffer, "%d h %02d min", m / 60, m % 60);
  }
  return buffer;
}

}  // namespace ember::experiments
