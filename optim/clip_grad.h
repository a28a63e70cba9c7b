#pragma once
// Gradient clipping by the global L2 norm over all parameters' gradients.
#include <vector>

#include "tensor/tensor.h"

namespace ember {

// Returns the total norm of the gradients (parameters without one are skipped) and, when it
// exceeds max_norm, scales every gradient by max_norm / (total + 1e-6) as PyTorch's
// clip_grad_norm_ does. One host synchronisation, to read the norm.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace ember
