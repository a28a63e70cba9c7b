#pragma once
// The backward engine.
#include "tensor/tensor.h"

namespace ember {

// Accumulates d(root)/d(leaf) into every leaf's .grad that requires it. `grad` is the upstream
// gradient (default: 1 for a single-element root). Without retain_graph the graph's saved
// tensors are freed, and a second backward through it throws.
void backward(const Tensor& root, const Tensor& grad = {}, bool retain_graph = false);

}  // namespace ember
