#pragma once
// Host-side checks and layout decisions that both backends make before a kernel runs, written
// once: the attention operands, the indices of index_select / gather / index_add /
// scatter_add, and how a reduction splits its input into kept and reduced dims. Each backend
// finds the facts its own way (the index range on the CPU by a loop, on the GPU by a kernel)
// and hands them here, so both refuse the same inputs with the same message.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ember::host_checks {

// q, k, v are [B,H,T,C] views with unit stride along C, of one dtype and fitting sizes; a mask,
// when given, is a bool [B,H,Tq,Tk] view.
void check_attention_rows(const char* op, const char* name, const Tensor& t);
void check_attention_operands(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask);

// An index tensor is i64; its values lo .. hi (lo > hi for an empty index) lie in [0, size of
// `dim` of `indexed`).
void check_index_dtype(const char* op, const Tensor& index);
void check_index_range(const char* op, int64_t lo, int64_t hi, int dim, const Tensor& indexed);
// A 1-D index seen as a tensor of `shape` that varies along `dim` only (a stride-0 view).
Tensor broadcast_index(const Tensor& index, int dim, const Shape& shape, const char* op);

// Layer norm over the last dim of a contiguous [rows, cols] x: y and (backward) gy, gx are
// contiguous [rows, cols]; weight, bias [cols] (any stride) or undefined; mean, rstd contiguous
// [rows]; the parameter gradients contiguous [cols] or undefined. Returns {rows, cols}.
struct RowsCols {
  int64_t rows, cols;
};
RowsCols check_layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& y,
                          const Tensor& mean, const Tensor& rstd);
RowsCols check_layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb);

// The dims of x that a reduction over `dims` (sorted) keeps, in order, and those it folds, with
// the smallest stride innermost (their order is free).
struct ReductionSplit {
  Shape kept_shape, reduced_shape;
  Strides kept_strides, reduced_strides;
};
ReductionSplit split_reduction(const Tensor& x, const std::vector<int>& dims);

}  // namespace ember::host_checks
