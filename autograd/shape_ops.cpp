#include "autograd/shape_ops.h"

#include <algorithm>
#include <numeric>

#include "autograd/elementwise.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/reduce.h"
#include "tensor/creation.h"

namespace ember {
namespace {

Shape infer_shape(Shape shape, int64_t numel, const Shape& from, const char* op) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      check(infer < 0, op, ": only one dimension can be -1 in ", shape);
      infer = static_cast<int64_t>(i);
    } else {
      check(shape[i] >= 0, op, ": invalid dimension ", shape[i], " in ", shape);
      if (__builtin_mul_overflow(known, shape[i], &known))
        fail(op, ": cannot reshape ", from, " (", numel, " elements) into ", shape, ": too many elements");
    }
  }
  if (infer >= 0) {
    check(known != 0 && numel % known == 0, op, ": cannot reshape ", from, " into ", shape);
    shape[static_cast<size_t>(infer)] = numel / known;
  }
  check(numel_of(shape) == numel, op, ": cannot reshape ", from, " (", numel, " elements) into ", shape);
  return shape;
}

// Strides that view x's data with `shape`, if its layout allows it (PyTorch's computeStride).
bool view_strides(const Tensor& x, const Shape& shape, Strides& out) {
  const Shape& old_shape = x.shape();
  const Strides& old_strides = x.strides();
  out.assign(shape.size(), 0);
  if (x.numel() <= 1) {  // empty or a single element: any layout views it
    out = contiguous_strides(shape);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[static_cast<size_t>(d)];
    if (d == 0 || (old_shape[static_cast<size_t>(d - 1)] != 1 &&
                   old_strides[static_cast<size_t>(d - 1)] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[static_cast<size_t>(view_d)] == 1)) {
        out[static_cast<size_t>(view_d)] = view_numel * chunk_base_stride;
        view_numel *= shape[static_cast<size_t>(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = old_strides[static_cast<size_t>(d - 1)];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

// A view op: out shares x's storage; backward maps the gradient back with `grad_fn`.
Tensor record_view(const char* name, const Tensor& x, Tensor out, Node::BackwardFn grad_fn) {
  return record(name, std::move(out), {x}, std::move(grad_fn));
}

}  // namespace

Tensor view(const Tensor& x, Shape shape) {
  shape = infer_shape(std::move(shape), x.numel(), x.shape(), "view");
  Strides strides;
  if (!view_strides(x, shape, strides))
    fail("view: cannot view a tensor of shape ", x.shape(), " and strides ", x.strides(), " as ", shape,
         " without copying; use reshape()");
  return record_view("view", x, as_strided(x, shape, strides, x.offset()),
                     [s = x.shape()](const Tensor& g) { return std::vector<Tensor>{reshape(g, s)}; });
}

Tensor reshape(const Tensor& x, Shape shape) {
  shape = infer_shape(std::move(shape), x.numel(), x.shape(), "reshape");
  Strides strides;
  if (view_strides(x, shape, strides)) return view(x, shape);
  return view(contiguous(x), shape);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int s = normalize_dim(start_dim, x.shape().size(), "flatten");
  int e = normalize_dim(end_dim, x.shape().size(), "flatten");
  check(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim, " for shape ", x.shape());
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int d = s; d <= e; ++d) merged *= x.shape()[static_cast<size_t>(d)];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
  const size_t rank = x.shape().size();
  check(order.size() == rank, "permute: order has ", order.size(), " dims, tensor of shape ", x.shape(), " has ", rank);
  Shape shape(rank);
  Strides strides(rank);
  std::vector<int64_t> inverse(rank, -1);
  for (size_t i = 0; i < rank; ++i) {
    int d = normalize_dim(order[i], rank, "permute");
    check(inverse[static_cast<size_t>(d)] < 0, "permute: dim ", d, " repeated in order for shape ", x.shape());
    inverse[static_cast<size_t>(d)] = static_cast<int64_t>(i);
    shape[i] = x.shape()[static_cast<size_t>(d)];
    strides[i] = x.strides()[static_cast<size_t>(d)];
  }
  return record_view("permute", x, as_strided(x, shape, strides, x.offset()),
                     [inverse](const Tensor& g) { return std::vector<Tensor>{permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> order(x.shape().size());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[static_cast<size_t>(normalize_dim(dim0, order.size(), "transpose"))],
            order[static_cast<size_t>(normalize_dim(dim1, order.size(), "transpose"))]);
  return permute(x, order);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Shape target = shape;
  const size_t lead = target.size() >= x.shape().size() ? target.size() - x.shape().size() : 0;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && i >= lead) target[i] = x.shape()[i - lead];
    else if (target[i] < 0)
      fail("expand: size ", target[i], " at dim ", i, " of ", shape,
           " is invalid (-1, keeping the size, is allowed only for an existing dim)");
  }
  return record_view("expand", x, broadcast_view(x, target, "expand"),
                     [s = x.shape()](const Tensor& g) { return std::vector<Tensor>{sum_to(g, s)}; });
}

Tensor squeeze(const Tensor& x) {
  Shape shape;
  for (int64_t s : x.shape())
    if (s != 1) shape.push_back(s);
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  if (x.dim() == 0) return x;
  int d = normalize_dim(dim, x.shape().size(), "squeeze");
  if (x.shape()[static_cast<size_t>(d)] != 1) return x;
  Shape shape = x.shape();
  shape.erase(shape.begin() + d);
  return reshape(x, shape);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int d = normalize_dim(dim, x.shape().size() + 1, "unsqueeze");
  Shape shape = x.shape();
  shape.insert(shape.begin() + d, 1);
  return reshape(x, shape);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  int d = normalize_dim(dim, x.shape().size(), "slice");
  const size_t du = static_cast<size_t>(d);
  const int64_t n = x.shape()[du];
  check(step > 0, "slice: step must be positive, got ", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape[du] = end == start ? 0 : (end - start - 1) / step + 1;  // no overflow for a huge step
  if (shape[du] > 1 && __builtin_mul_overflow(strides[du], step, &strides[du]))
    fail("slice: step ", step, " overflows the stride of dim ", d, " in shape ", x.shape());
  Tensor out = as_strided(x, shape, strides, x.offset() + start * x.strides()[du]);
  return record_view("slice", x, out, [s = x.shape(), d, start, end, step](const Tensor& g) {
    Tensor full = zeros(s, {.dtype = g.dtype(), .device = g.device()});
    copy_(slice(full, d, start, end, step), g);
    return std::vector<Tensor>{full};
  });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int d = normalize_dim(dim, x.shape().size(), "narrow");
  const int64_t n = x.shape()[static_cast<size_t>(d)];
  if (start < 0) start += n;
  // Compared without forming start + length, which may overflow.
  check(start >= 0 && length >= 0 && start <= n && length <= n - start, "narrow: start ", start, " and length ", length,
        " are out of bounds for dim ", d, " of size ", n, " in shape ", x.shape());
  return slice(x, d, start, start + length);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int d = normalize_dim(dim, x.shape().size(), "select");
  const int64_t n = x.shape()[static_cast<size_t>(d)];
  check(index >= -n && index < n, "select: index ", index, " is out of range for dim ", d, " of size ", n,
        " in shape ", x.shape());
  if (index < 0) index += n;
  return squeeze(slice(x, d, index, index + 1), d);
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor clone(const Tensor& x) {
  Tensor out = dispatch::empty_like(x);
  backend_for(x.device()).copy(x, out);
  return record("clone", out, {x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), {.dtype = dtype, .device = x.device()});
  backend_for(x.device()).copy(x, out);
  if (!is_floating(dtype)) return out;  // no gradient flows into integers or bools
  return record("to(dtype)", out, {x}, [from = x.dtype()](const Tensor& g) { return std::vector<Tensor>{to(g, from)}; });
}

Tensor to(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor src = dispatch::contiguous(x, x.dtype());
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = device});
  copy_bytes(out.data_ptr(), device, src.data_ptr(), src.device(), static_cast<size_t>(x.numel()) * dtype_size(x.dtype()));
  return record("to(device)", out, {x}, [from = x.device()](const Tensor& g) { return std::vector<Tensor>{to(g, from)}; });
}

}  // namespace ember
