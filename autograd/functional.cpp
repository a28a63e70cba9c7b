#include "autograd/functional.h"

#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/flops.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"
#include "tensor/random.h"

namespace ember {
namespace {

// A contiguous tensor viewed as the [rows, cols] matrix the row kernels take.
Tensor as_rows(const Tensor& t, int64_t cols) {
  const int64_t rows = cols == 0 ? 0 : t.numel() / cols;
  return as_strided(t, {rows, cols}, {cols, 1}, t.offset());
}

// (Log-)softmax over the last dim, recorded with its fused backward.
Tensor softmax_last(const Tensor& x, bool log, const char* name) {
  dispatch::check_floating(name, x);
  const int64_t cols = x.dim() == 0 ? 1 : x.shape().back();
  Tensor y = dispatch::empty_like(x);
  backend_for(x.device()).softmax(as_rows(dispatch::contiguous(x, x.dtype()), cols), as_rows(y, cols), log);
  count_flops("softmax", 5.0 * static_cast<double>(y.numel()));
  return record(name, y, {x}, [saved = Saved(y, name), log, cols](const Tensor& g) {
    Tensor yv = saved.get();
    Tensor gx = dispatch::empty_like(yv);
    backend_for(yv.device())
        .softmax_backward(as_rows(yv, cols), as_rows(dispatch::contiguous(g, yv.dtype()), cols), as_rows(gx, cols), log);
    count_flops("softmax", 4.0 * static_cast<double>(gx.numel()));
    return std::vector<Tensor>{gx};
  });
}

// The row kernels work on the last dim: another dim is swapped last and back.
Tensor softmax_along(const Tensor& x_in, int64_t dim, bool log, const char* name) {
  const auto [x] = autocast::widen(x_in);
  const int64_t d = normalize_dim(dim, x.shape().size(), name);
  if (x.dim() <= 1 || d == x.dim() - 1) return softmax_last(x, log, name);
  return transpose(softmax_last(transpose(x, d, -1), log, name), d, -1);
}

// A [C] view of a contiguous copy of an optional parameter of normalized_shape.
Tensor flat_param(const Tensor& p, int64_t cols) {
  if (!p.defined()) return p;
  Tensor c = dispatch::contiguous(p, p.dtype());
  return as_strided(c, {cols}, {1}, c.offset());
}

void check_layer_norm_args(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias) {
  dispatch::check_floating("layer_norm", x);
  const size_t k = normalized_shape.size(), rank = x.shape().size();
  check(k >= 1 && k <= rank && Shape(x.shape().end() - static_cast<int64_t>(k), x.shape().end()) == normalized_shape,
        "layer_norm: normalized_shape ", normalized_shape, " does not match the trailing dims of input ", x.shape());
  for (const Tensor* p : {&weight, &bias}) {
    if (!p->defined()) continue;
    const char* what = p == &weight ? "weight" : "bias";
    check(p->shape() == normalized_shape, "layer_norm: ", what, " of shape ", p->shape(), " differs from normalized_shape ",
          normalized_shape, " (input ", x.shape(), ")");
    dispatch::check_same("layer_norm", x, *p);
  }
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_along(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_along(x, dim, true, "log_softmax"); }

Tensor layer_norm(const Tensor& x_in, const Shape& normalized_shape, const Tensor& weight_in, const Tensor& bias_in,
                  double eps) {
  const auto [x, weight, bias] = autocast::widen(x_in, weight_in, bias_in);
  check_layer_norm_args(x, normalized_shape, weight, bias);
  const int64_t cols = numel_of(normalized_shape);
  const int64_t rows = cols == 0 ? 0 : x.numel() / cols;
  Tensor xc = dispatch::contiguous(x, x.dtype());
  Tensor y = dispatch::empty_like(x);
  Tensor mean = dispatch::empty_like(x, {rows}), rstd = dispatch::empty_like(x, {rows});
  backend_for(x.device())
      .layer_norm(as_rows(xc, cols), flat_param(weight, cols), flat_param(bias, cols), eps, as_rows(y, cols), mean, rstd);
  const auto elements = static_cast<double>(y.numel());
  count_flops("norm", elements * (5 + (weight.defined() ? 1 : 0) + (bias.defined() ? 1 : 0)));
  const bool need_w = weight.defined() && weight.requires_grad(), need_b = bias.defined() && bias.requires_grad();
  return record("layer_norm", y, {x, weight, bias},
                [xs = Saved(xc, "layer_norm"), ws = Saved(weight, "layer_norm"), mean, rstd, cols, normalized_shape,
                 need_w, need_b](const Tensor& g) {
    Tensor xv = xs.get();
    Tensor gx = dispatch::empty_like(xv);
    Tensor gw = need_w ? dispatch::empty_like(xv, normalized_shape) : Tensor();
    Tensor gb = need_b ? dispatch::empty_like(xv, normalized_shape) : Tensor();
    backend_for(xv.device())
        .layer_norm_backward(as_rows(dispatch::contiguous(g, xv.dtype()), cols), as_rows(xv, cols),
                             flat_param(ws.get(), cols), mean, rstd, as_rows(gx, cols), flat_param(gw, cols),
                             flat_param(gb, cols));
    count_flops("norm", static_cast<double>(gx.numel()) * (8 + (need_w ? 2 : 0) + (need_b ? 1 : 0)));
    return std::vector<Tensor>{gx, gw, gb};
  });
}

Tensor dropout(const Tensor& x, double p, bool training) {
  check(p >= 0 && p <= 1, "dropout: probability ", p, " is outside [0, 1] (input ", x.shape(), ")");
  dispatch::check_floating("dropout", x);
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  const GeneratorState stream = next_stream();
  Tensor u = empty(x.shape(), {.dtype = DType::F32, .device = x.device()});
  backend_for(x.device()).uniform(u, stream.seed, stream.offset);
  Tensor keep = gt(u, scalar(p, {.dtype = DType::F32, .device = x.device()}));
  return x * (to(keep, x.dtype()) * (1.0 / (1.0 - p)));
}

}  // namespace ember
