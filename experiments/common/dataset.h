#pragma once
// A labelled data set held on the host. Experiments slice, relabel and perturb samples far more
// often than they train on all of them, so the samples stay in plain vectors and become tensors
// only for the subset a run uses (to_tensors).
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace ember::experiments {

struct Dataset {
  std::string name;
  Shape sample_shape;      // [features] for vectors, [channels, height, width] for images
  std::vector<float> x;    // size() samples of numel(sample_shape) values, row-major
  std::vector<int64_t> y;  // class indices in [0, num_classes)
  int64_t num_classes = 0;

  int64_t size() const { return static_cast<int64_t>(y.size()); }
  int64_t features() const { return numel_of(sample_shape); }
  bool is_image() const { return sample_shape.size() == 3; }
};

// The most classes a data set may have: a label beyond it is a corrupted file, not a class.
inline constexpr int64_t kMaxClasses = 65536;

// Throws ember::Error naming the data set unless x, y, shapes and labels agree, there are 1 to
// kMaxClasses classes and every input value is finite.
void validate(const Dataset& d);

// The samples at `indices` (repeats allowed), in that order.
Dataset subset(const Dataset& d, const std::vector<int64_t>& indices);

// Inputs [n, sample_shape...] (f32) and labels [n] (i64) on `device`.
std::pair<Tensor, Tensor> to_tensors(const Dataset& d, Device device = Device::cpu());

// How many samples of each class (a vector of num_classes counts).
std::vector<int64_t> class_counts(const Dataset& d);

}  // namespace ember::experiments
