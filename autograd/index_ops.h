#pragma once
// Differentiable joining, splitting and indexing: cat, stack, split, chunk, index_select,
// gather, scatter_add, embedding; and one_hot (not differentiable). Indices are i64 tensors
// with values in [0, size) of the indexed dim; negative dims count from the end.
#include <vector>

#include "tensor/tensor.h"

namespace ember {

// Joins tensors of one dtype and device whose shapes agree except in `dim`.
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
// Joins same-shaped tensors along a new dim inserted at `dim`.
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);

// Views of consecutive pieces along `dim`: of split_size each (the last may be smaller), of
// the given sizes (which must add up to the dim's size), or `chunks` pieces of equal size
// (ceil(size / chunks); fewer pieces when they run out, as in PyTorch).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim);

// x's slices index[0], index[1], ... along dim, for a 1-D index (repeats allowed).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out[i][j] = x[index[i][j]][j] (dim 0 shown); index has x's rank and no dim larger than x's
// other than `dim`; the output has index's shape.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// A copy of x with out[index[i][j]][j] += src[i][j] (dim 0 shown); index has src's shape.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);

// index.shape + [num_classes], 1 at each index's class and 0 elsewhere.
Tensor one_hot(const Tensor& index, int64_t num_classes, DType dtype = DType::F32);
// Rows of weight [V, D] picked by i64 indices of any shape: indices.shape + [D].
Tensor embedding(const Tensor& weight, const Tensor& indices);

}  // namespace ember
