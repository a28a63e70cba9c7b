#include "autograd/norm_ops.h"

#include <algorithm>

#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/grad_mode.h"
#include "autograd/dispatch.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "autograd/unary.h"

namespace ember {
namespace {

// [1,C,1,...]: a per-channel tensor broadcast against x.
Shape channel_shape(const Tensor& x) {
  Shape s(static_cast<size_t>(x.dim()), 1);
  s[1] = x.size(1);
  return s;
}

void check_per_channel(const char* op, const char* what, const Tensor& x, const Tensor& t) {
  if (!t.defined()) return;
  dispatch::check_same(op, x, t);
  check(t.shape() == Shape{x.size(1)}, op, ": ", what, " ", t.shape(), " must be [", x.size(1), "], one per channel of input ",
        x.shape());
}

// x * scale + shift with scale = rstd * weight and shift = bias - mean * scale, all per channel
// (the per-channel products are small; x is swept twice).
Tensor normalize(const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, const Tensor& bias) {
  Shape cs = channel_shape(x);
  Tensor scale = weight.defined() ? rstd * reshape(weight, cs) : rstd;
  Tensor shift = -(mean * scale);
  if (bias.defined()) shift = shift + reshape(bias, cs);
  return x * scale + shift;
}

}  // namespace

Tensor batch_norm(const Tensor& x_in, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight_in,
                  const Tensor& bias_in, bool training, double momentum, double eps) {
  // The running statistics are updated in place: they keep their dtype, and are not widened.
  const auto [x, weight, bias] = autocast::widen(x_in, weight_in, bias_in);
  const char* op = "batch_norm";
  check(x.dim() >= 2, op, ": input ", x.shape(), " must be [N,C,...]");
  dispatch::check_floating(op, x);
  check(running_mean.defined() == running_var.defined(), op,
        ": give both running_mean and running_var, or neither");
  check_per_channel(op, "running_mean", x, running_mean);
  check_per_channel(op, "running_var", x, running_var);
  check_per_channel(op, "weight", x, weight);
  check_per_channel(op, "bias", x, bias);
  Shape cs = channel_shape(x);
  if (!training && running_mean.defined())
    return normalize(x, reshape(running_mean, cs), rsqrt(reshape(running_var, cs) + eps), weight, bias);

  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const int64_t n = x.numel() / std::max<int64_t>(x.size(1), 1);
  check(n > 1, op, ": input ", x.shape(), " has ", n, " value per channel; batch statistics need more than one");
  Tensor mu = mean(x, dims, true);
  Tensor xc = x - mu;
  Tensor var = mean(xc * xc, dims, true);
  if (training && running_mean.defined()) {
    NoGradGuard no_grad;
    const Shape c{x.size(1)};
    mul_(running_mean, 1 - momentum);
    add_(running_mean, reshape(detach(mu), c), momentum);
    mul_(running_var, 1 - momentum);
    add_(running_var, reshape(detach(var), c), momentum * static_cast<double>(n) / static_cast<double>(n - 1));
  }
  Tensor rstd = rsqrt(var + eps);
  Tensor scale = weight.defined() ? rstd * reshape(weight, cs) : rstd;
  Tensor y = xc * scale;
  return bias.defined() ? y + reshape(bias, cs) : y;
}

Tensor group_norm(const Tensor& x_in, int64_t num_groups, const Tensor& weight_in, const Tensor& bias_in, double eps) {
  const auto [x, weight, bias] = autocast::widen(x_in, weight_in, bias_in);
  const char* op = "group_norm";
  check(x.dim() >= 2, op, ": input ", x.shape(), " must be [N,C,...]");
  dispatch::check_floating(op, x);
  check(num_groups >= 1, op, ": groups must be positive, got ", num_groups);
  check(x.size(1) % num_groups == 0, op, ": input ", x.shape(), " has ", x.size(1),
        " channels, not divisible into ", num_groups, " groups");
  check_per_channel(op, "weight", x, weight);
  check_per_channel(op, "bias", x, bias);
  Tensor xg = reshape(x, {x.size(0), num_groups, -1});
  Tensor mu = mean(xg, {2}, true);
  Tensor xc = xg - mu;
  Tensor rstd = rsqrt(mean(xc * xc, {2}, true) + eps);
  Tensor y = reshape(xc * rstd, x.shape());
  Shape cs = channel_shape(x);
  if (weight.defined()) y = y * reshape(weight, cs);
  return bias.defined() ? y + reshape(bias, cs) : y;
}

}  // namespace ember
