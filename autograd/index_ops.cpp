#include "autograd/index_ops.h"

#include <algorithm>
#include <sstream>

#include "autograd/flops.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember {
namespace {

int dim_of(const Tensor& x, int64_t dim, const char* op) {
  check(x.dim() > 0, op, ": expected a tensor of rank >= 1, got a 0-d tensor");
  return normalize_dim(dim, x.shape().size(), op);
}

void check_index(const char* op, const Tensor& x, const Tensor& index) {
  check(index.dtype() == DType::I64, op, ": index must be i64, got ", index.dtype(), " of shape ", index.shape());
  check(index.device() == x.device(), op, ": index ", index.shape(), " is on ", index.device(), ", x ", x.shape(),
        " on ", x.device());
}

// gather/scatter_add address x at index's positions, with index's values along `dim`.
void check_index_fits(const char* op, const Tensor& x, int dim, const Tensor& index) {
  bool fits = index.dim() == x.dim();
  for (int64_t e = 0; fits && e < x.dim(); ++e) fits = e == dim || index.size(e) <= x.size(e);
  check(fits, op, ": index of shape ", index.shape(), " must have the rank of x ", x.shape(),
        " and no larger size in any dim but dim ", dim);
}

// `shape` written with '*' in `dim`, e.g. [2,*]: what cat expects of every input.
std::string shape_except(const Shape& shape, int dim) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) os << ',';
    if (static_cast<int>(i) == dim) os << '*';
    else os << shape[i];
  }
  return os.str() + ']';
}

bool same_except(const Shape& a, const Shape& b, int dim) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (static_cast<int>(i) != dim && a[i] != b[i]) return false;
  return true;
}

Tensor zeros_for(const Tensor& g, const Shape& shape) { return zeros(shape, {.dtype = g.dtype(), .device = g.device()}); }

// Runs fn, prefixing an error it throws (such as an index the backend found out of range)
// with the context of the op the user called.
template <typename Fn, typename... Parts>
auto with_context(Fn&& fn, const Parts&... context) {
  try {
    return fn();
  } catch (const Error& e) {
    fail(context..., ": ", e.what());
  }
}

}  // namespace

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  check(!xs.empty(), "cat: expected a non-empty list of tensors");
  const Tensor& first = xs[0];
  const int d = dim_of(first, dim, "cat");
  Shape shape = first.shape();
  shape[static_cast<size_t>(d)] = 0;
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < xs.size(); ++i) {
    dispatch::check_same("cat", first, xs[i]);
    check(same_except(xs[i].shape(), first.shape(), d), "cat: tensor ", i, " has shape ", xs[i].shape(), ", expected ",
          shape_except(first.shape(), d), " (the shape of tensor 0, ", first.shape(), ", except in dim ", d, ")");
    sizes.push_back(xs[i].size(d));
    shape[static_cast<size_t>(d)] += sizes.back();
  }
  Tensor out = dispatch::empty_like(first, shape);
  int64_t start = 0;
  for (const Tensor& x : xs) {
    backend_for(out.device()).copy(x, as_strided(out, x.shape(), out.strides(), out.offset() + start * out.stride(d)));
    start += x.size(d);
  }
  return record("cat", out, xs, [sizes, d](const Tensor& g) { return split(g, sizes, d); });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  check(!xs.empty(), "stack: expected a non-empty list of tensors");
  const int d = normalize_dim(dim, xs[0].shape().size() + 1, "stack");
  std::vector<Tensor> columns;
  for (size_t i = 0; i < xs.size(); ++i) {
    check(xs[i].shape() == xs[0].shape(), "stack: tensor ", i, " has shape ", xs[i].shape(), ", expected ",
          xs[0].shape(), " (the shape of tensor 0)");
    columns.push_back(unsqueeze(xs[i], d));
  }
  return cat(columns, d);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  const int d = dim_of(x, dim, "split");
  check(split_size > 0, "split: split_size must be positive, got ", split_size, " for shape ", x.shape());
  const int64_t n = x.size(d);
  std::vector<int64_t> sizes;
  for (int64_t start = 0; start < n; start += split_size) sizes.push_back(std::min(split_size, n - start));
  if (sizes.empty()) sizes.push_back(0);
  return split(x, sizes, d);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  const int d = dim_of(x, dim, "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    check(s >= 0, "split: negative size in ", sizes, " for shape ", x.shape());
    total += s;
  }
  check(total == x.size(d), "split: sizes ", sizes, " add up to ", total, ", but dim ", d, " of shape ", x.shape(),
        " has size ", x.size(d));
  std::vector<Tensor> pieces;
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(narrow(x, d, start, s));
    start += s;
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  const int d = dim_of(x, dim, "chunk");
  check(chunks > 0, "chunk: chunks must be positive, got ", chunks, " for shape ", x.shape());
  return split(x, std::max<int64_t>(1, (x.size(d) + chunks - 1) / chunks), d);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const int d = dim_of(x, dim, "index_select");
  check_index("index_select", x, index);
  check(index.dim() == 1, "index_select: index must be 1-D, got shape ", index.shape(), " for x ", x.shape());
  Shape shape = x.shape();
  shape[static_cast<size_t>(d)] = index.numel();
  Tensor out = dispatch::empty_like(x, shape);
  backend_for(x.device()).index_select(x, d, index, out);
  return record("index_select", out, {x}, [shape = x.shape(), d, saved = Saved(index, "index_select")](const Tensor& g) {
    Tensor gx = zeros_for(g, shape);
    backend_for(g.device()).index_add(g, d, saved.get(), gx);
    count_flops("elementwise", static_cast<double>(g.numel()));
    return std::vector<Tensor>{gx};
  });
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const int d = dim_of(x, dim, "gather");
  check_index("gather", x, index);
  check_index_fits("gather", x, d, index);
  Tensor out = dispatch::empty_like(x, index.shape());
  backend_for(x.device()).gather(x, d, index, out);
  return record("gather", out, {x}, [shape = x.shape(), d, saved = Saved(index, "gather")](const Tensor& g) {
    Tensor gx = zeros_for(g, shape);
    backend_for(g.device()).scatter_add(g, d, saved.get(), gx);
    count_flops("elementwise", static_cast<double>(g.numel()));
    return std::vector<Tensor>{gx};
  });
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const int d = dim_of(x, dim, "scatter_add");
  dispatch::check_same("scatter_add", x, src);
  check_index("scatter_add", x, index);
  check(index.shape() == src.shape(), "scatter_add: index shape ", index.shape(), " differs from src shape ",
        src.shape());
  check_index_fits("scatter_add", x, d, index);
  Tensor out = dispatch::empty_like(x);
  Backend& backend = backend_for(x.device());
  backend.copy(x, out);
  backend.scatter_add(src, d, index, out);
  count_flops("elementwise", static_cast<double>(src.numel()));
  return record("scatter_add", out, {x, src}, [d, saved = Saved(index, "scatter_add")](const Tensor& g) {
    return std::vector<Tensor>{g, gather(g, d, saved.get())};
  });
}

Tensor one_hot(const Tensor& index, int64_t num_classes, DType dtype) {
  check(index.dtype() == DType::I64, "one_hot: index must be i64, got ", index.dtype(), " of shape ", index.shape());
  check(num_classes > 0, "one_hot: num_classes must be positive, got ", num_classes);
  const TensorOptions options{.dtype = dtype, .device = index.device()};
  Shape shape = index.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, options);
  // A 1 scattered at each index: index and the ones seen as [..., 1] columns, no copies.
  Shape column = index.shape();
  column.push_back(1);
  Strides strides = index.strides();
  strides.push_back(1);
  Tensor ones_column = broadcast_view(scalar(1.0, options), column, "one_hot");
  Tensor index_column = as_strided(index, column, strides, index.offset());
  with_context([&] { backend_for(index.device()).scatter_add(ones_column, static_cast<int>(index.dim()), index_column, out); },
               "one_hot: index ", index.shape(), " with ", num_classes, " classes");
  return out;
}

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  check(weight.dim() == 2, "embedding: weight must be 2-D [num_embeddings, embedding_dim], got shape ", weight.shape());
  check(indices.dtype() == DType::I64, "embedding: indices must be i64, got ", indices.dtype(), " of shape ",
        indices.shape());
  Shape shape = indices.shape();
  shape.push_back(weight.size(1));
  // index_select's backward adds rows back with index_add, so repeated indices sum up.
  return with_context([&] { return reshape(index_select(weight, 0, reshape(indices, {-1})), shape); },
                      "embedding: weight ", weight.shape(), ", indices ", indices.shape());
}

}  // namespace ember
