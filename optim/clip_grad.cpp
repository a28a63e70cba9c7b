#include "optim/clip_grad.h"

#include <cmath>

#include "autograd/elementwise.h"
#include "autograd/grad_mode.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"

namespace ember {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  check(max_norm > 0, "clip_grad_norm: max_norm must be positive, got ", max_norm);
  NoGradGuard no_grad;
  // Squares are summed per gradient on its device (bf16 widened to f32 first so the sum keeps
  // its precision) and the sums added in f64 there, so only the total crosses to the host.
  Tensor total_sq;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (g.dtype() == DType::BF16) g = to(g, DType::F32);
    Tensor s = to(sum(g * g), DType::F64);
    total_sq = total_sq.defined() ? total_sq + s : s;
  }
  const double total = total_sq.defined() ? std::sqrt(total_sq.item()) : 0.0;
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    for (const Tensor& p : params)
      if (p.grad().defined()) mul_(p.grad(), coef);
  }
  return total;
}

}  // namespace ember
