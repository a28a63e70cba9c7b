#include "autograd/conv_ops.h"

#include <limits>

#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/flops.h"
#include "autograd/index_ops.h"
#include "autograd/dispatch.h"
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
  dispatch::check_floating(op, x);
  dispatch::check_same(op, x, w);
  check_at_least(op, "stride", stride, 1);
  check_at_least(op, "dilation", dilation, 1);
  check_at_least(op, "padding", padding, 0);
  check(groups >= 1, op, ": groups must be positive, got ", groups);
  const int64_t C = x.size(1), O = w.size(0);
  check(C == w.size(1) * groups, op, ": input ", x.shape(), " has ", C, " channels, weight ", w.shape(), " expects ",
        w.size(1), " x groups ", groups);
  check(O % groups == 0, op, ": weight ", w.shape(), " has ", O, " output channels, not divisible by groups ", groups);
  if (b.defined()) {
    dispatch::check_same(op, x, b);
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
  Tensor y = dispatch::empty_like(x, shape);
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
                    gx = dispatch::empty_like(g, xs);
                    backend.conv2d_backward_data(g, w.get(), p, gx);
                    count_flops("conv", product);
                  }
                  if (need_w) {
                    gw = dispatch::empty_like(g, ws);
                    if (need_b) gb = dispatch::empty_like(g, {ws[0]});
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
  dispatch::check_floating(op, x);
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
  Tensor y = dispatch::empty_like(x, shape);
  backend_for(x.device()).avg_pool2d(x, p, y);
  // A fixed window adds its elements and divides; an adaptive one reads each input about once.
  const double flops = p.adaptive ? static_cast<double>(x.numel() + y.numel())
                                  : static_cast<double>(y.numel()) * static_cast<double>(p.kernel_h * p.kernel_w + 1);
  count_flops("pool", flops);
  return record(op, y, {x}, [p, xs = x.shape(), flops](const Tensor& g) {
    Tensor gx = dispatch::empty_like(g, xs);
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
  Tensor y = dispatch::empty_like(x, shape);
  Tensor indices = empty(shape, {.dtype = DType::I64, .device = x.device()});
  backend_for(x.device()).max_pool2d(x, p, y, indices);
  count_flops("pool", static_cast<double>(y.numel()) * static_cast<double>(p.kernel_h * p.kernel_w));
  return record("max_pool2d", y, {x}, [indices, xs = x.shape()](const Tensor& g) {
    Tensor gx = dispatch::empty_like(g, xs);
    backend_for(g.device()).max_pool2d_backward(g, indices, gx);
    count_flops("pool", static_cast<double>(g.numel()));
    return std::vector<Tensor>{gx};
  });
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding) {
  auto [p, shape] = pool_geometry("avg_pool2d", x, kernel, stride, padding);
  return avg_pool_op("avg_pool2d", x, p, shape);
}

namespace {

// One axis of a pooling with PyTorch's options: output size, and the padding after the input
// (padding, plus the ceil_mode overhang, minus what no window reaches).
struct PoolAxis {
  int64_t out, pad_before, pad_after;
};

PoolAxis pool_axis(const char* op, int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                   bool ceil_mode) {
  const int64_t extent = dilation * (kernel - 1) + 1, span = in + 2 * pad - extent;
  check(span >= 0, op, ": window of extent ", extent, " is larger than the padded input ", in + 2 * pad);
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;  // a last window must start inside
  const int64_t reach = (out - 1) * stride + extent;       // padded positions the windows read
  return {out, pad, reach - in - pad};
}

// x padded with `value` by (before, after) along dims 2 and 3 (after may be negative: cropped).
Tensor pad_hw(const Tensor& x, const PoolAxis& h, const PoolAxis& w, double value) {
  Tensor t = x;
  const PoolAxis axes[2] = {h, w};
  for (int64_t d = 2; d < 4; ++d) {
    const PoolAxis& a = axes[d - 2];
    if (a.pad_after < 0) t = narrow(t, d, 0, t.size(d) + a.pad_after);
    std::vector<Tensor> parts;
    auto block = [&](int64_t n) {
      Shape s = t.shape();
      s[static_cast<size_t>(d)] = n;
      return full(s, value, {.dtype = t.dtype(), .device = t.device()});
    };
    if (a.pad_before > 0) parts.push_back(block(a.pad_before));
    parts.push_back(t);
    if (a.pad_after > 0) parts.push_back(block(a.pad_after));
    if (parts.size() > 1) t = cat(parts, d);
  }
  return t;
}

// The windows of padded input xp as a stack [KH * KW, N, C, OH, OW] of strided views.
Tensor windows(const Tensor& xp, Size2 kernel, Size2 stride, Size2 dilation, int64_t oh, int64_t ow) {
  std::vector<Tensor> taps;
  for (int64_t a = 0; a < kernel[0]; ++a)
    for (int64_t b = 0; b < kernel[1]; ++b) {
      Tensor t = slice(xp, 2, a * dilation[0], a * dilation[0] + (oh - 1) * stride[0] + 1, stride[0]);
      taps.push_back(slice(t, 3, b * dilation[1], b * dilation[1] + (ow - 1) * stride[1] + 1, stride[1]));
    }
  return stack(taps, 0);
}

void check_pool_options(const char* op, const Tensor& x, Size2 kernel, Size2 stride, Size2 padding, Size2 dilation) {
  check_rank(op, "input", x, 4, "[N,C,H,W]");
  dispatch::check_floating(op, x);
  check_at_least(op, "kernel", Sizes(kernel.begin(), kernel.end()), 1);
  check_at_least(op, "stride", Sizes(stride.begin(), stride.end()), 1);
  check_at_least(op, "padding", Sizes(padding.begin(), padding.end()), 0);
  check_at_least(op, "dilation", Sizes(dilation.begin(), dilation.end()), 1);
  check(2 * padding[0] <= kernel[0] && 2 * padding[1] <= kernel[1], op, ": padding ",
        Sizes(padding.begin(), padding.end()), " must be at most half the kernel ", Sizes(kernel.begin(), kernel.end()));
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Size2 kernel, const MaxPool2dOptions& o) {
  const char* op = "max_pool2d";
  const Size2 stride = o.stride.value_or(kernel);
  if (!o.ceil_mode && o.dilation == Size2{1, 1}) return max_pool2d(x, kernel, o.stride, o.padding);
  check_pool_options(op, x, kernel, stride, o.padding, o.dilation);
  const PoolAxis h = pool_axis(op, x.size(2), kernel[0], stride[0], o.padding[0], o.dilation[0], o.ceil_mode);
  const PoolAxis w = pool_axis(op, x.size(3), kernel[1], stride[1], o.padding[1], o.dilation[1], o.ceil_mode);
  Tensor taps = windows(pad_hw(x, h, w, -std::numeric_limits<double>::infinity()), kernel, stride, o.dilation, h.out,
                        w.out);
  // The first maximum of each window (a NaN counts as the maximum), gathered so that its
  // gradient goes to that one tap.
  Tensor first = argmax(detach(taps), 0, true);
  return squeeze(gather(taps, 0, first), 0);
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, const AvgPool2dOptions& o) {
  const char* op = "avg_pool2d";
  const Size2 stride = o.stride.value_or(kernel);
  if (!o.ceil_mode && o.count_include_pad) return avg_pool2d(x, kernel, o.stride, o.padding);
  check_pool_options(op, x, kernel, stride, o.padding, {1, 1});
  const PoolAxis h = pool_axis(op, x.size(2), kernel[0], stride[0], o.padding[0], 1, o.ceil_mode);
  const PoolAxis w = pool_axis(op, x.size(3), kernel[1], stride[1], o.padding[1], 1, o.ceil_mode);
  Tensor sums = sum(windows(pad_hw(x, h, w, 0), kernel, stride, {1, 1}, h.out, w.out), {0});
  // The divisor of each window: the positions of a mask that count (the input, or the input and
  // its padding), summed the same way.
  const TensorOptions like{.dtype = x.dtype(), .device = x.device()};
  Tensor mask;
  if (o.count_include_pad) {
    PoolAxis hi = h, wi = w;  // ones over [-padding, H + padding), zeros past it
    hi.pad_before = wi.pad_before = 0;
    hi.pad_after -= h.pad_before;
    wi.pad_after -= w.pad_before;
    mask = pad_hw(ones({1, 1, x.size(2) + 2 * h.pad_before, x.size(3) + 2 * w.pad_before}, like), hi, wi, 0);
  } else {
    mask = pad_hw(ones({1, 1, x.size(2), x.size(3)}, like), h, w, 0);
  }
  Tensor counts = sum(windows(mask, kernel, stride, {1, 1}, h.out, w.out), {0});
  return sums / counts;
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_rank(op, "input", x, 4, "[N,C,H,W]");
  dispatch::check_floating(op, x);
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
