#pragma once
// Forward helpers shared by the op files: validate operands, allocate the output, call the
// backend. No autograd here: ops wrap these and record their backward.
#include "backends/backend.h"

namespace ember::dispatch {

// Throws naming `op` unless a and b share device and dtype.
void check_same(const char* op, const Tensor& a, const Tensor& b);
// Throws naming `op` unless x is floating.
void check_floating(const char* op, const Tensor& x);
// A new contiguous tensor with x's dtype and device unless given.
Tensor empty_like(const Tensor& x, const Shape& shape);
Tensor empty_like(const Tensor& x);

Tensor unary(UnaryOp op, const char* name, const Tensor& x, double alpha = 0, double beta = 0);
Tensor binary(BinaryOp op, const char* name, const Tensor& a, const Tensor& b);
// x reduced over `dims` (sorted, unique), keeping them as size-1 dims.
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int>& dims);
// A contiguous copy with the same shape (x itself if already contiguous and dtype matches).
Tensor contiguous(const Tensor& x, DType dtype);

}  // namespace ember::dispatch
