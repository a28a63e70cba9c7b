#include "autograd/reduce.h"

#include <algorithm>

#include "autograd/elementwise.h"
#include "autograd/kernels.h"
#include "autograd/record.h"
#include "autograd/shape_ops.h"

namespace ember {
namespace {

// Sorted unique dims in [0, rank); an empty list means every dim.
std::vector<int> reduce_dims(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  std::vector<int> out;
  if (dims.empty()) {
    for (int d = 0; d < static_cast<int>(x.dim()); ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(normalize_dim(d, x.shape().size(), op));
  std::sort(out.begin(), out.end());
  check(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": repeated dim in reduction of shape ", x.shape());
  return out;
}

// The reduced shape without the kept size-1 dims.
Shape dropped(const Shape& kept, const std::vector<int>& dims) {
  Shape out;
  for (size_t i = 0; i < kept.size(); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), static_cast<int>(i))) out.push_back(kept[i]);
  return out;
}

int64_t count_of(const Tensor& x, const std::vector<int>& dims) {
  int64_t n = 1;
  for (int d : dims) n *= x.shape()[static_cast<size_t>(d)];
  return n;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  kernels::check_floating("sum", x);
  std::vector<int> ds = reduce_dims(x, dims, "sum");
  Tensor out = kernels::reduce(ReduceOp::Sum, x, ds);
  Shape kept = out.shape();
  if (!keepdim) out = as_strided(out, dropped(kept, ds), contiguous_strides(dropped(kept, ds)), 0);
  return record("sum", out, {x}, [xs = x.shape(), kept](const Tensor& g) {
    return std::vector<Tensor>{expand(reshape(g, kept), xs)};
  });
}

Tensor sum(const Tensor& x) { return sum(x, {}, false); }

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<int> ds = reduce_dims(x, dims, "mean");
  return sum(x, dims, keepdim) / static_cast<double>(std::max<int64_t>(count_of(x, ds), 1));
}

Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const size_t lead = g.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < g.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) dims.push_back(static_cast<int64_t>(i));
  Tensor s = dims.empty() ? g : sum(g, dims, true);
  return reshape(s, shape);
}

}  // namespace ember
