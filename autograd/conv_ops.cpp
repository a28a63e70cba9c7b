#include "autograd/conv_ops.h"

#include "autograd/autocast.h"
#include "autograd/flops.h"
#include "autograd/kernels.h"
#include "autograd/record.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember {
namespace {

using Sizes = std::vector<int64_t>;  // one per spatial dim, in error messages

void check_rank(const char* op, const char* what, const Tensor& t, int64_t rank, const char* layout) {
  check(t.dim() == rank, op, ": ", what, " ", t.shape(), " must be ", rank, "-d ", layout);
}

void check_at_least(const char* op, const char* what, const Sizes& v, int64_t least) {
  for (int64_t s : v) check(s >= least, op, ": ", what, " ", v, " must be at least ", least);
}

// Validates a convolution of x [N,C,*spatial] with weight [O,C/groups,*kernel] (1 or 2 spatial
// dims) and returns the output shape.
Shape conv_output_shape(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, const Sizes& stride,
                        const Sizes& padding, const Sizes& dilation, int64_t groups) {
  const int64_t rank = static_cast<int64_t>(stride.size()) + 2;
  check_rank(op, "input", x, rank, rank == 4 ? "[N,C,H,W]" : "[N,C,L]");
  check_rank(op, "weight", w, rank, rank == 4 ? "[O,C/groups,KH,KW]" : "[O,C/groups,K]");
  kernels::check_floating(op, x);
  kernels::check_same(op, x, w);
  check_at_least(op, "stride", stride, 1);
  check_at_least(op, "dilation", dilation, 1);
  check_at_least(op, "padding", padding, 0);
  check(groups >= 1, op, ": groups must be positive, got ", groups);
  const int64_t C = x.size(1), O = w.size(0);
  check(C == w.size(1) * groups, op, ": input ", x.shape(), " has ", C, " channels, weight ", w.shape(), " expects ",
        w.size(1), " x groups ", groups);
  check(O % groups == 0, op, ": weight ", w.shape(), " has ", O, " output channels, not divisible by groups ", groups);
  if (b.defined()) {
    kernels::check_same(op, x, b);
    check(b.shape() == Shape{O}, op, ": bias ", b.shape(), " must be [", O, "], one per output channel of weight ",
          w.shape());
  }
  Shape out{x.size(0), O};
  Sizes kernel(w.shape().begin() + 2, w.shape().end()), span, padded;
  for (size_t d = 0; d < stride.size(); ++d) {
    span.push_back(dilation[d] * (kernel[d] - 1) + 1);
    padded.push_back(x.shape()[d + 2] + 2 * padding[d]);
  }
  for (size_t d = 0; d < stride.size(); ++d) {
    check(span[d] <= padded[d], op, ": kernel ", kernel, " with dilation ", dilation, " spans ", span,
          ", larger than the padded input ", padded, " (input ", x.shape(), ", padding ", padding, ")");
    out.push_back((padded[d] - span[d]) / stride[d] + 1);
  }
  return out;
}

// The convolution on validated 4-d operands.
Tensor conv2d_op(const Tensor& x, const Tensor& w, const Tensor& b, const Backend::Conv2dParams& p, const Shape& shape) {
  Tensor y = kernels::empty_like(x, shape);
  backend_for(x.device()).conv2d(x, w, b, p, y);
  // Each output element is a dot product over C/groups x KH x KW inputs; the backward's data and
  // weight gradients are products of the same size.
  const double product = 2.0 * static_cast<double>(y.numel()) * static_cast<double>(w.numel() / w.size(0));
  count_flops("conv", product);
  if (b.defined()) count_flops("elementwise", static_cast<double>(y.numel()));
  const bool need_x = x.requires_grad(), need_w = w.requires_grad(), need_b = b.defined() && b.requires_grad();
  // Each gradient needs the other operand only.
  return record("conv2d", y, {x, w, b},
                [x = Saved(need_w ? x : Tensor(), "conv2d"), w = Saved(need_x ? w : Tensor(), "conv2d"),
                 xs = x.shape(), ws = w.shape(), p, need_x, need_w, need_b, product](const Tensor& g) {
                  Backend& backend = backend_for(g.device());
                  Tensor gx, gw, gb;
                  if (need_x) {
                    gx = kernels::empty_like(g, xs);
                    backend.conv2d_backward_data(g, w.get(), p, gx);
                    count_flops("conv", product);
                  }
                  if (need_w) {
                    gw = kernels::empty_like(g, ws);
                    if (need_b) gb = kernels::empty_like(g, {ws[0]});
                    backend.conv2d_backward_weight(g, x.get(), p, gw, gb);
                    count_flops("conv", product);
                    if (need_b) count_flops("reduce", static_cast<double>(g.numel()));
                  } else if (need_b) {
                    gb = sum(g, {0, 2, 3});
                  }
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

// Validates a pooling of x [N,C,H,W] and returns its parameters and output shape.
std::pair<Backend::Pool2dParams, Shape> pool_geometry(const char* op, const Tensor& x, Size2 kernel,
                                                      std::optional<Size2> stride_or_kernel, Size2 padding) {
  check_rank(op, "input", x, 4, "[N,C,H,W]");
  kernels::check_floating(op, x);
  const Size2 stride = stride_or_kernel.value_or(kernel);
  const Sizes k(kernel.begin(), kernel.end()), s(stride.begin(), stride.end()), pad(padding.begin(), padding.end());
  check_at_least(op, "kernel", k, 1);
  check_at_least(op, "stride", s, 1);
  check_at_least(op, "padding", pad, 0);
  check(2 * pad[0] <= k[0] && 2 * pad[1] <= k[1], op, ": padding ", pad, " must be at most half the kernel ", k);
  const Sizes padded{x.size(2) + 2 * pad[0], x.size(3) + 2 * pad[1]};
  check(k[0] <= padded[0] && k[1] <= padded[1], op, ": kernel ", k, " is larger than the padded input ", padded,
        " (input ", x.shape(), ", padding ", pad, ")");
  Backend::Pool2dParams p{k[0], k[1], s[0], s[1], pad[0], pad[1], false};
  return {p, Shape{x.size(0), x.size(1), (padded[0] - k[0]) / s[0] + 1, (padded[1] - k[1]) / s[1] + 1}};
}

Tensor avg_pool_op(const char* op, const Tensor& x, const Backend::Pool2dParams& p, const Shape& shape) {
  Tensor y = kernels::empty_like(x, shape);
  backend_for(x.device()).avg_pool2d(x, p, y);
  // A fixed window adds its elements and divides; an adaptive one reads each input about once.
  const double flops = p.adaptive ? static_cast<double>(x.numel() + y.numel())
                                  : static_cast<double>(y.numel()) * static_cast<double>(p.kernel_h * p.kernel_w + 1);
  count_flops("pool", flops);
  return record(op, y, {x}, [p, xs = x.shape(), flops](const Tensor& g) {
    Tensor gx = kernels::empty_like(g, xs);
    backend_for(g.device()).avg_pool2d_backward(g, p, gx);
    count_flops("pool", flops);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, Size2 stride, Size2 padding,
              Size2 dilation, int64_t groups) {
  const auto [x, weight, bias] = autocast::lower(x_in, weight_in, bias_in);
  Shape shape = conv_output_shape("conv2d", x, weight, bias, {stride[0], stride[1]}, {padding[0], padding[1]},
                                  {dilation[0], dilation[1]}, groups);
  return conv2d_op(x, weight, bias, {stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], groups},
                   shape);
}

Tensor conv1d(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, int64_t stride, int64_t padding,
              int64_t dilation, int64_t groups) {
  const auto [x, weight, bias] = autocast::lower(x_in, weight_in, bias_in);
  Shape shape = conv_output_shape("conv1d", x, weight, bias, {stride}, {padding}, {dilation}, groups);
  Tensor y = conv2d_op(unsqueeze(x, 2), unsqueeze(weight, 2), bias, {1, stride, 0, padding, 1, dilation, groups},
                       {shape[0], shape[1], 1, shape[2]});
  return squeeze(y, 2);
}

Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding) {
  auto [p, shape] = pool_geometry("max_pool2d", x, kernel, stride, padding);
  Tensor y = kernels::empty_like(x, shape);
  Tensor indices = empty(shape, {.dtype = DType::I64, .device = x.device()});
  backend_for(x.device()).max_pool2d(x, p, y, indices);
  count_flops("pool", static_cast<double>(y.numel()) * static_cast<double>(p.kernel_h * p.kernel_w));
  return record("max_pool2d", y, {x}, [indices, xs = x.shape()](const Tensor& g) {
    Tensor gx = kernels::empty_like(g, xs);
    backend_for(g.device()).max_pool2d_backward(g, indices, gx);
    count_flops("pool", static_cast<double>(g.numel()));
    return std::vector<Tensor>{gx};
  });
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding) {
  auto [p, shape] = pool_geometry("avg_pool2d", x, kernel, stride, padding);
  return avg_pool_op("avg_pool2d", x, p, shape);
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_rank(op, "input", x, 4, "[N,C,H,W]");
  kernels::check_floating(op, x);
  check_at_least(op, "output size", {output_size[0], output_size[1]}, 1);
  Backend::Pool2dParams p;
  p.adaptive = true;
  return avg_pool_op(op, x, p, {x.size(0), x.size(1), output_size[0], output_size[1]});
}

Tensor global_avg_pool2d(const Tensor& x) {
  check_rank("global_avg_pool2d", "input", x, 4, "[N,C,H,W]");
  return mean(x, {2, 3});
}

}  // namespace ember
