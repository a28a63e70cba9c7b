#include "experiments/common/dataset.h"

#include <cmath>

#include "autograd/shape_ops.h"
#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::experiments {

void validate(const Dataset& d) {
  check(!d.sample_shape.empty() && d.features() > 0, d.name, ": empty sample shape ", d.sample_shape);
  check(static_cast<int64_t>(d.x.size()) == d.size() * d.features(), d.name, ": ", d.x.size(), " input values for ",
        d.size(), " samples of shape ", d.sample_shape);
  check(d.num_classes > 0 && d.num_classes <= kMaxClasses, d.name, ": ", d.num_classes, " classes (expected 1 to ",
        kMaxClasses, ")");
  for (size_t i = 0; i < d.x.size(); ++i)
    if (!std::isfinite(d.x[i]))
      fail(d.name, ": input value ", d.x[i], " of sample ", static_cast<int64_t>(i) / d.features(), ", feature ",
           static_cast<int64_t>(i) % d.features(), " is not finite");
  for (int64_t label : d.y)
    check(label >= 0 && label < d.num_classes, d.name, ": label ", label, " outside [0, ", d.num_classes, ")");
}

Dataset subset(const Dataset& d, const std::vector<int64_t>& indices) {
  Dataset out{.name = d.name, .sample_shape = d.sample_shape, .x = {}, .y = {}, .num_classes = d.num_classes};
  const int64_t f = d.features();
  out.x.reserve(indices.size() * f);
  out.y.reserve(indices.size());
  for (int64_t i : indices) {
    check(i >= 0 && i < d.size(), d.name, ": subset index ", i, " outside [0, ", d.size(), ")");
    out.x.insert(out.x.end(), d.x.begin() + i * f, d.x.begin() + (i + 1) * f);
    out.y.push_back(d.y[i]);
  }
  return out;
}

std::pair<Tensor, Tensor> to_tensors(const Dataset& d, Device device) {
  Shape shape = d.sample_shape;
  shape.insert(shape.begin(), d.size());
  Tensor x = from_vector(d.x, shape), y = from_vector(d.y, {d.size()});
  if (device.is_cpu()) return {x, y};
  return {to(x, device), to(y, device)};
}

std::vector<int64_t> class_counts(const Dataset& d) {
  std::vector<int64_t> counts(d.num_classes, 0);
  for (int64_t label : d.y) ++counts[label];
  return counts;
}

}  // namespace ember::experiments
