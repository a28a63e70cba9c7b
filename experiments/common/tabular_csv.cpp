// scikit-learn's bundled data sets (breast_cancer.csv, wine_data.csv, iris.csv, digits.csv).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "experiments/common/binary_file.h"
#include "experiments/common/loaders.h"
#include "tensor/error.h"

namespace ember::experiments {
namespace {

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  return out;
}

bool parse_number(const std::string& text, double& value) {
  const char* end = text.data() + text.size();
  while (end > text.data() && (end[-1] == '\r' || end[-1] == ' ')) --end;
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && ptr != text.data();
}

// A non-negative integer count that fits (the header's sample and feature counts).
bool is_count(double v) { return v >= 0 && v <= 1e9 && v == std::floor(v); }

}  // namespace

Dataset load_tabular_csv(const std::filesystem::path& file) {
  std::stringstream body(read_file(file));
  Dataset d{.name = file.stem().string(), .sample_shape = {}, .x = {}, .y = {}, .num_classes = 0};
  int64_t declared_rows = -1, line_number = 0;
  for (std::string line; std::getline(body, line);) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    auto fields = fields_of(line);
    std::vector<double> values(fields.size());
    size_t bad = fields.size();  // the first field that is not a number
    for (size_t i = 0; i < fields.size() && bad == fields.size(); ++i)
      if (!parse_number(fields[i], values[i])) bad = i;
    if (bad < fields.size() && line_number == 1) {
      double rows = 0, features = 0;
      check(fields.size() >= 2 && parse_number(fields[0], rows) && parse_number(fields[1], features) &&
                is_count(rows) && is_count(features),
            file.string(), ":1: header \"", line.substr(0, 80), "\" does not start with the sample and feature counts");
      declared_rows = static_cast<int64_t>(rows);
      d.sample_shape = {static_cast<int64_t>(features)};
      continue;
    }
    if (bad < fields.size())
      fail(file.string(), ":", line_number, ":", bad + 1, ": field \"", fields[bad].substr(0, 40), "\" is not a number");
    // from_chars reads "nan", "inf" and 1e39 (beyond float): a feature must be a finite float.
    for (size_t i = 0; i + 1 < values.size(); ++i)
      check(std::isfinite(values[i]) && std::abs(values[i]) <= std::numeric_limits<float>::max(), file.string(), ":",
            line_number, ":", i + 1, ": feature ", fields[i], " is not a finite 32-bit float");
    if (d.sample_shape.empty()) d.sample_shape = {static_cast<int64_t>(values.size()) - 1};
    check(static_cast<int64_t>(values.size()) == d.features() + 1, file.string(), ":", line_number, ": ", values.size(),
          " fields, expected ", d.features(), " features and a label");
    const double label = values.back();
    check(label >= 0 && label < kMaxClasses && label == std::floor(label), file.string(), ":", line_number, ":",
          values.size(), ": label ", fields.back(), " is not a class index (an integer in [0, ", kMaxClasses, "))");
    d.x.insert(d.x.end(), values.begin(), values.end() - 1);
    d.y.push_back(static_cast<int64_t>(label));
    d.num_classes = std::max(d.num_classes, d.y.back() + 1);
  }
  check(d.size() > 0, file.string(), ": no samples");
  check(declared_rows < 0 || declared_rows == d.size(), file.string(), ": header declares ", declared_rows,
        " samples, the body holds ", d.size());
  validate(d);
  return d;
}

}  // namespace ember::experiments
