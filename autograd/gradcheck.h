#pragma once
// Finite-difference gradient checking: compares backward() with central differences in f64.
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace ember {

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  std::string message;  // the first mismatch: input, element, analytic vs numeric
};

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-4;
};

// f maps the inputs to one tensor. Inputs that require grad are checked; they should be f64
// (they may be non-contiguous views). The output is contracted with a fixed random tensor, so
// every output element's gradient is tested at once.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions options = {});

}  // namespace ember
