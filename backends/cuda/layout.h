#pragma once
// Strided operands as the CUDA kernels take them: N operands of one shape, merged into as few
// dims as their strides allow (as the CPU backend walks them) and held in fixed arrays, so a
// layout is passed to a kernel by value.
#include <array>

#include "tensor/tensor.h"

namespace ember::cuda {

// Tensors have few dims, and merging leaves fewer still; more is refused, naming the op.
constexpr int kMaxDims = 8;

template <int N>
struct Layout {
  int rank = 1;
  int64_t numel = 0;
  int64_t shape[kMaxDims] = {};       // outermost first
  int64_t strides[N][kMaxDims] = {};  // per operand, in elements
};

template <int N>
Layout<N> make_layout(const char* op, const Shape& shape, const std::array<const Strides*, N>& strides);

// The common cases: one operand with its own strides, and operands that are the tensors' own.
inline Layout<1> layout_of(const char* op, const Tensor& t) { return make_layout<1>(op, t.shape(), {&t.strides()}); }

}  // namespace ember::cuda
