#include "autograd/dispatch.h"

#include "autograd/flops.h"
#include "tensor/creation.h"

namespace ember::dispatch {

void check_same(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    fail(op, ": operands are on different devices (", a.device(), " and ", b.device(), ") with shapes ", a.shape(),
         " and ", b.shape());
  if (a.dtype() != b.dtype())
    fail(op, ": dtype mismatch, ", a.dtype(), " ", a.shape(), " and ", b.dtype(), " ", b.shape(),
         " (convert one with to())");
}

void check_floating(const char* op, const Tensor& x) {
  check(is_floating(x.dtype()), op, ": expected a floating tensor, got ", x.dtype(), " of shape ", x.shape());
}

Tensor empty_like(const Tensor& x, const Shape& shape) { return empty(shape, {.dtype = x.dtype(), .device = x.device()}); }
Tensor empty_like(const Tensor& x) { return empty_like(x, x.shape()); }

Tensor unary(UnaryOp op, const char* name, const Tensor& x, double alpha, double beta) {
  check_floating(name, x);
  Tensor out = empty_like(x);
  backend_for(x.device()).unary(op, x, out, alpha, beta);
  count_flops("elementwise", unary_flops(op) * static_cast<double>(out.numel()));
  return out;
}

Tensor binary(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  check_same(name, a, b);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, {.dtype = is_comparison(op) ? DType::Bool : a.dtype(), .device = a.device()});
  backend_for(a.device()).binary(op, broadcast_view(a, shape, name), broadcast_view(b, shape, name), out);
  count_flops("elementwise", binary_flops(op) * static_cast<double>(out.numel()));
  return out;
}

Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int>& dims) {
  Shape shape = x.shape();
  for (int d : dims) shape[static_cast<size_t>(d)] = 1;
  bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  Tensor out = empty(shape, {.dtype = arg ? DType::I64 : x.dtype(), .device = x.device()});
  backend_for(x.device()).reduce(op, x, dims, out);
  count_flops("reduce", static_cast<double>(x.numel()));
  return out;
}

Tensor contiguous(const Tensor& x, DType dtype) {
  if (x.is_contiguous() && x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), {.dtype = dtype, .device = x.device()});
  backend_for(x.device()).copy(x, out);
  return out;
}

}  // namespace ember::dispatch
