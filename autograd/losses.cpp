#include "autograd/losses.h"

#include <numeric>

#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/flops.h"
#include "autograd/functional.h"
#include "autograd/index_ops.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "autograd/unary.h"
#include "tensor/creation.h"

namespace ember {
namespace {

// A class loss's operands as rows: scores [M, C] with the class dim moved last, targets [M],
// and the shape of the unreduced loss.
struct ClassRows {
  Tensor scores, target;
  Shape loss_shape;
  int64_t classes = 0;
};

ClassRows class_rows(const char* op, const Tensor& scores, const Tensor& target) {
  dispatch::check_floating(op, scores);
  check(scores.dim() >= 1, op, ": expected scores of shape [N, C, ...] or [C], got a scalar");
  check(target.dtype() == DType::I64, op, ": target must hold i64 class indices, got ", target.dtype(), " ",
        target.shape());
  check(target.device() == scores.device(), op, ": scores on ", scores.device(), ", target on ", target.device());
  const size_t class_dim = scores.dim() >= 2 ? 1 : 0;
  ClassRows r;
  r.classes = scores.shape()[class_dim];
  r.loss_shape = scores.shape();
  r.loss_shape.erase(r.loss_shape.begin() + static_cast<int64_t>(class_dim));
  check(target.shape() == r.loss_shape, op, ": target of shape ", target.shape(), " does not match scores of shape ",
        scores.shape(), " (expected ", r.loss_shape, ")");
  std::vector<int64_t> order(scores.shape().size());
  std::iota(order.begin(), order.end(), 0);
  order.erase(order.begin() + static_cast<int64_t>(class_dim));
  order.push_back(static_cast<int64_t>(class_dim));
  const int64_t rows = numel_of(r.loss_shape);
  r.scores = reshape(permute(scores, order), {rows, r.classes});
  r.target = reshape(target, {rows});
  return r;
}

// Bool [M]: true where the target is not ignore_index.
Tensor kept_rows(const ClassRows& rows, int64_t ignore_index) {
  return ne(rows.target,
            scalar(static_cast<double>(ignore_index), {.dtype = DType::I64, .device = rows.target.device()}));
}

Tensor reduce_loss(const Tensor& losses, Reduction reduction) {
  switch (reduction) {
    case Reduction::Sum: return sum(losses);
    case Reduction::Mean: return mean(losses);
    case Reduction::None: break;
  }
  return losses;
}

// Per-row losses [M] reduced; Mean averages over the targets that are not ignored (0 / 0 =
// NaN when all are, as in PyTorch).
Tensor reduce_class_loss(const Tensor& losses, const ClassRows& rows, Reduction reduction, int64_t ignore_index) {
  if (reduction == Reduction::None) return reshape(losses, rows.loss_shape);
  if (reduction == Reduction::Sum) return sum(losses);
  return sum(losses) / sum(to(kept_rows(rows, ignore_index), losses.dtype()));
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  check(a.shape() == b.shape(), op, ": input of shape ", a.shape(), " and target of shape ", b.shape(), " differ");
}

}  // namespace

namespace {

// weight [C] (f32/f64, on the scores' device), checked against the scores.
void check_class_weight(const char* op, const Tensor& weight, const ClassRows& rows) {
  check(weight.dim() == 1 && weight.size(0) == rows.classes, op, ": weight of shape ", weight.shape(),
        " must be [C] for C = ", rows.classes, " classes");
  check(weight.device() == rows.scores.device(), op, ": weight on ", weight.device(), ", scores on ",
        rows.scores.device());
  dispatch::check_floating(op, weight);
}

// The class weight of each row's target, 0 for ignored rows: [M].
Tensor row_weights(const Tensor& weight, const Tensor& kept, const Tensor& safe_target) {
  Tensor w = index_select(weight, 0, safe_target);
  return where(kept, w, zeros({}, {.dtype = w.dtype(), .device = w.device()}));
}

// Weighted per-row losses [M] reduced as PyTorch does: Mean is sum(w_y l) / sum(w_y) over the
// rows not ignored (0 / 0 = NaN when all are ignored or the weights sum to 0).
Tensor reduce_weighted(const Tensor& losses, const Tensor& w, const ClassRows& rows, Reduction reduction) {
  if (reduction == Reduction::None) return reshape(losses, rows.loss_shape);
  if (reduction == Reduction::Sum) return sum(losses);
  return sum(losses) / sum(w);
}

}  // namespace

namespace {

// Class-weighted cross-entropy, composed from log_softmax and nll_loss as PyTorch defines it:
//   (1 - s) nll_loss(lp, y, weight) + s / C * smooth,  smooth_row = -sum_c w_c lp_c (0 where
// ignored), reduced like the nll term (Mean divides by sum(w_y) over the rows kept).
Tensor weighted_cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, int64_t ignore_index,
                              double label_smoothing, const Tensor& weight) {
  ClassRows rows = class_rows("cross_entropy", autocast::widen(logits)[0], target);
  check_class_weight("cross_entropy", weight, rows);
  Tensor lp = log_softmax(rows.scores, 1);
  Tensor nll = nll_loss(lp, rows.target, reduction == Reduction::None ? Reduction::None : reduction, ignore_index,
                        weight);
  if (reduction == Reduction::None) nll = reshape(nll, rows.loss_shape);
  if (label_smoothing == 0) return nll;
  Tensor kept = kept_rows(rows, ignore_index);
  Tensor w = to(weight, lp.dtype());
  Tensor zero = zeros({}, {.dtype = lp.dtype(), .device = lp.device()});
  Tensor smooth = where(kept, -sum(lp * w, {1}), zero);
  Tensor reduced;
  if (reduction == Reduction::None) reduced = reshape(smooth, rows.loss_shape);
  else if (reduction == Reduction::Sum) reduced = sum(smooth);
  else reduced = sum(smooth) / sum(row_weights(w, kept, rows.target * to(kept, DType::I64)));
  return nll * (1 - label_smoothing) + reduced * (label_smoothing / static_cast<double>(rows.classes));
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, int64_t ignore_index,
                     double label_smoothing, const Tensor& weight) {
  check(label_smoothing >= 0 && label_smoothing <= 1, "cross_entropy: label_smoothing ", label_smoothing,
        " is outside [0, 1] (logits ", logits.shape(), ")");
  if (weight.defined()) return weighted_cross_entropy(logits, target, reduction, ignore_index, label_smoothing, weight);
  // bf16 logits stay bf16 (autocast's f32 policy for losses is kept inside the kernel, which
  // computes in f32): no f32 copy of a [tokens, vocab] matrix. Loss and logsumexp are f32.
  ClassRows rows = class_rows("cross_entropy", logits, target);
  Tensor x = dispatch::contiguous(rows.scores, rows.scores.dtype());
  const TensorOptions loss_options{.dtype = compute_dtype(x.dtype()), .device = x.device()};
  Tensor losses = empty({x.size(0)}, loss_options), lse = empty({x.size(0)}, loss_options);
  backend_for(x.device()).cross_entropy(x, rows.target, ignore_index, label_smoothing, losses, lse);
  count_flops("cross_entropy", static_cast<double>(x.numel()) * (label_smoothing > 0 ? 5 : 4));
  losses = record("cross_entropy", losses, {rows.scores},
                  [xs = Saved(x, "cross_entropy"), ts = Saved(rows.target, "cross_entropy"), lse, ignore_index, label_smoothing](const Tensor& g) {
    Tensor xv = xs.get();
    Tensor gx = dispatch::empty_like(xv);
    backend_for(xv.device()).cross_entropy_backward(xv, ts.get(), lse, g, ignore_index, label_smoothing, gx);
    count_flops("cross_entropy", 4.0 * static_cast<double>(gx.numel()));
    return std::vector<Tensor>{gx};
  });
  return reduce_class_loss(losses, rows, reduction, ignore_index);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction, int64_t ignore_index,
                const Tensor& weight) {
  ClassRows rows = class_rows("nll_loss", autocast::widen(log_probs)[0], target);
  std::vector<int64_t> targets = rows.target.to_vector<int64_t>();
  for (size_t n = 0; n < targets.size(); ++n)
    if (targets[n] != ignore_index && (targets[n] < 0 || targets[n] >= rows.classes))
      fail("nll_loss: target ", targets[n], " at row ", n, " is out of range for ", rows.classes, " classes");
  if (weight.defined()) check_class_weight("nll_loss", weight, rows);
  Tensor kept = kept_rows(rows, ignore_index);
  // Ignored rows gather class 0, then are masked out by where(), not by a multiplication: with
  // every target ignored, Mean is 0 / 0 and its gradient inf, and inf * 0 would put NaN in
  // column 0 of each ignored row. where() passes them 0, PyTorch's gradient there.
  Tensor safe_target = rows.target * to(kept, DType::I64);
  Tensor picked = squeeze(gather(rows.scores, 1, unsqueeze(safe_target, 1)), 1);
  Tensor zero = zeros({}, {.dtype = picked.dtype(), .device = picked.device()});
  if (weight.defined()) {
    Tensor w = to(row_weights(weight, kept, safe_target), picked.dtype());
    return reduce_weighted(where(kept, -picked * w, zero), w, rows, reduction);
  }
  return reduce_class_loss(where(kept, -picked, zero), rows, reduction, ignore_index);
}

Tensor mse_loss(const Tensor& pred_in, const Tensor& target_in, Reduction reduction) {
  const auto [pred, target] = autocast::widen(pred_in, target_in);
  check_same_shape("mse_loss", pred, target);
  dispatch::check_floating("mse_loss", pred);
  Tensor d = pred - target;
  return reduce_loss(d * d, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits_in, const Tensor& target_in, Reduction reduction,
                                        const Tensor& pos_weight) {
  const auto [logits, target] = autocast::widen(logits_in, target_in);
  check_same_shape("binary_cross_entropy_with_logits", logits, target);
  dispatch::check_floating("binary_cross_entropy_with_logits", logits);
  // softplus(x) = max(x, 0) + log1p(exp(-|x|)), the stable form.
  if (!pos_weight.defined()) return reduce_loss(softplus(logits) - logits * target, reduction);
  // -[p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = p y softplus(-x) + (1 - y) softplus(x),
  // with p broadcast against the logits (a [C] pos_weight weighs the classes of the last dim).
  dispatch::check_floating("binary_cross_entropy_with_logits", pos_weight);
  check(broadcast_shapes(pos_weight.shape(), logits.shape(), "binary_cross_entropy_with_logits") == logits.shape(),
        "binary_cross_entropy_with_logits: pos_weight of shape ", pos_weight.shape(),
        " does not broadcast to the logits' shape ", logits.shape());
  Tensor p = to(pos_weight, logits.dtype());
  return reduce_loss(p * target * softplus(-logits) + (1.0 - target) * softplus(logits), reduction);
}

}  // namespace ember
