#include "backends/host_checks.h"

#include <algorithm>

#include "tensor/error.h"

namespace ember::host_checks {

void check_attention_rows(const char* op, const char* name, const Tensor& t) {
  check(t.dim() == 4 && (t.stride(3) == 1 || t.size(3) <= 1), op, ": ", name, " ", t.shape(),
        " must be [B,H,T,C] with unit stride along its last dim");
}

void check_attention_operands(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  check_attention_rows(op, "q", q);
  check_attention_rows(op, "k", k);
  check_attention_rows(op, "v", v);
  check(q.dtype() == k.dtype() && q.dtype() == v.dtype(), op, ": q, k, v dtypes differ: ", q.dtype(), ", ", k.dtype(),
        ", ", v.dtype());
  check(q.size(0) == k.size(0) && q.size(1) == k.size(1) && k.size(0) == v.size(0) && k.size(1) == v.size(1) &&
            q.size(3) == k.size(3) && k.size(2) == v.size(2),
        op, ": q ", q.shape(), ", k ", k.shape(), ", v ", v.shape(), " do not fit together");
  if (mask.defined())
    check(mask.dtype() == DType::Bool && mask.dim() == 4 && mask.size(0) == q.size(0) && mask.size(1) == q.size(1) &&
              mask.size(2) == q.size(2) && mask.size(3) == k.size(2),
          op, ": mask must be a bool [B,H,Tq,Tk] view, got ", mask.dtype(), " ", mask.shape());
}

void check_index_dtype(const char* op, const Tensor& index) {
  check(index.dtype() == DType::I64, op, ": index must be i64, got ", index.dtype(), " of shape ", index.shape());
}

void check_index_range(const char* op, int64_t lo, int64_t hi, int dim, const Tensor& indexed) {
  const int64_t size = indexed.size(dim);
  if (lo > hi || (lo >= 0 && hi < size)) return;
  fail(op, ": index ", lo < 0 ? lo : hi, " is out of range for dim ", dim, " of size ", size, " in shape ",
       indexed.shape());
}

Tensor broadcast_index(const Tensor& index, int dim, const Shape& shape, const char* op) {
  check(index.dim() == 1, op, ": index must be 1-D, got shape ", index.shape());
  Strides strides(shape.size(), 0);
  strides[static_cast<size_t>(dim)] = index.stride(0);
  return as_strided(index, shape, std::move(strides), index.offset());
}

namespace {

void check_matrix(const char* op, const Tensor& t, int64_t rows, int64_t cols) {
  check(t.is_contiguous() && t.dim() == 2 && t.size(0) == rows && t.size(1) == cols, op,
        ": expected a contiguous [", rows, ", ", cols, "] operand, got ", t.shape());
}

void check_vector(const char* op, const Tensor& t, int64_t size) {
  if (!t.defined()) return;
  check(t.dim() == 1 && t.size(0) == size, op, ": expected a [", size, "] operand, got ", t.shape());
}

void check_statistics(const char* op, const Tensor& mean, const Tensor& rstd, int64_t rows) {
  check(mean.is_contiguous() && rstd.is_contiguous() && mean.numel() == rows && rstd.numel() == rows, op,
        ": expected contiguous [", rows, "] mean and rstd, got ", mean.shape(), " and ", rstd.shape());
}

RowsCols rows_cols(const char* op, const Tensor& x) {
  check(x.dim() == 2, op, ": expected an [R, C] input, got ", x.shape());
  return {x.size(0), x.size(1)};
}

}  // namespace

RowsCols check_layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& y,
                          const Tensor& mean, const Tensor& rstd) {
  const char* op = "layer_norm";
  const RowsCols rc = rows_cols(op, x);
  check_matrix(op, x, rc.rows, rc.cols);
  check_matrix(op, y, rc.rows, rc.cols);
  check_vector(op, weight, rc.cols);
  check_vector(op, bias, rc.cols);
  check_statistics(op, mean, rstd, rc.rows);
  return rc;
}

RowsCols check_layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  const char* op = "layer_norm_backward";
  const RowsCols rc = rows_cols(op, x);
  check_matrix(op, x, rc.rows, rc.cols);
  check_matrix(op, gy, rc.rows, rc.cols);
  check_matrix(op, gx, rc.rows, rc.cols);
  check_vector(op, weight, rc.cols);
  for (const Tensor* g : {&gw, &gb}) {
    if (!g->defined()) continue;  // check() evaluates its message, which needs a shape
    check(g->is_contiguous() && g->numel() == rc.cols, op, ": expected a contiguous [", rc.cols,
          "] parameter gradient, got ", g->shape());
  }
  check_statistics(op, mean, rstd, rc.rows);
  return rc;
}

ReductionSplit split_reduction(const Tensor& x, const std::vector<int>& dims) {
  ReductionSplit s;
  std::vector<size_t> reduced_dims;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    if (std::binary_search(dims.begin(), dims.end(), static_cast<int>(d))) {
      reduced_dims.push_back(d);
    } else {
      s.kept_shape.push_back(x.shape()[d]);
      s.kept_strides.push_back(x.strides()[d]);
    }
  }
  std::stable_sort(reduced_dims.begin(), reduced_dims.end(),
                   [&](size_t a, size_t b) { return x.strides()[a] > x.strides()[b]; });
  for (size_t d : reduced_dims) {
    s.reduced_shape.push_back(x.shape()[d]);
    s.reduced_strides.push_back(x.strides()[d]);
  }
  return s;
}

}  // namespace ember::host_checks
