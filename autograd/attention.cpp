#include "autograd/attention.h"

#include <algorithm>
#include <cmath>

#include "autograd/autocast.h"
#include "autograd/flops.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"
#include "tensor/random.h"

namespace ember {
namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

Shape leading(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

void check_operands(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, double dropout_p) {
  check(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2, kOp, ": query ", q.shape(), ", key ", k.shape(), " and value ",
        v.shape(), " must each be [..., T, D]");
  dispatch::check_floating(kOp, q);
  dispatch::check_same(kOp, q, k);
  dispatch::check_same(kOp, q, v);
  check(leading(q) == leading(k) && leading(q) == leading(v), kOp, ": query ", q.shape(), ", key ", k.shape(),
        " and value ", v.shape(), ": leading (batch, head) dims differ");
  check(q.size(-1) == k.size(-1), kOp, ": query ", q.shape(), " and key ", k.shape(), ": head dims ", q.size(-1),
        " and ", k.size(-1), " differ");
  check(k.size(-2) == v.size(-2), kOp, ": key ", k.shape(), " and value ", v.shape(), ": key lengths ", k.size(-2),
        " and ", v.size(-2), " differ");
  check(dropout_p >= 0 && dropout_p <= 1, kOp, ": dropout probability ", dropout_p, " is outside [0, 1] (query ",
        q.shape(), ")");
  if (!mask.defined()) return;
  check(mask.dtype() == DType::Bool, kOp, ": mask must be bool (true = attend), got ", mask.dtype(), " ", mask.shape());
  check(mask.device() == q.device(), kOp, ": mask on ", mask.device(), ", query on ", q.device());
  Shape scores = leading(q);
  scores.push_back(q.size(-2));
  scores.push_back(k.size(-2));
  bool broadcasts = mask.dim() <= static_cast<int64_t>(scores.size());
  for (int64_t i = 1; broadcasts && i <= mask.dim(); ++i) {
    const int64_t have = mask.shape()[static_cast<size_t>(mask.dim() - i)];
    broadcasts = have == 1 || have == scores[scores.size() - static_cast<size_t>(i)];
  }
  check(broadcasts, kOp, ": mask ", mask.shape(), " does not broadcast to the scores ", scores, " of query ", q.shape(),
        " and key ", k.shape());
}

// t [..., T, C] as the kernels' [batch, heads, T, C]: a view where the leading dims allow one,
// else a copy (reshape decides). t carries no autograd history here.
Tensor as_heads(const Tensor& t, int64_t batch, int64_t heads) {
  return reshape(detach(t), {batch, heads, t.size(-2), t.size(-1)});
}

// Whether a [B, H, T, C] operand has its heads interleaved in memory, as the heads of a linear
// layer's [B, T, H C] output viewed [B, T, H, C] and transposed are.
bool heads_interleaved(const Tensor& t) { return t.size(1) > 1 && t.size(2) > 1 && t.stride(1) < t.stride(2); }

// A new [B, H, T, C] tensor laid out as `like`: heads interleaved ([B, T, H, C] memory, seen
// transposed) when like's are, so that the caller's merge of the heads (or the gradient's way
// back to a [B, T, H C] product) is a view instead of a copy; contiguous otherwise.
Tensor empty_heads(const Tensor& like, int64_t rows, int64_t cols, DType dtype) {
  const TensorOptions options{.dtype = dtype, .device = like.device()};
  const int64_t batch = like.size(0), heads = like.size(1);
  if (!heads_interleaved(like)) return empty({batch, heads, rows, cols}, options);
  return transpose(empty({batch, rows, heads, cols}, options), 1, 2);
}

// The kernels read rows with unit stride, in the op's dtype; other layouts are copied.
Tensor unit_rows(const Tensor& t, DType dtype) {
  return (t.stride(-1) == 1 || t.size(-1) <= 1) && t.dtype() == dtype ? t : dispatch::contiguous(t, dtype);
}

// The scores computed per (batch, head): all Tq x Tk, or under causal the visible ones (key
// j <= query i), min(i + 1, Tk) in row i.
double scores_counted(int64_t tq, int64_t tk, bool causal) {
  if (!causal) return static_cast<double>(tq) * static_cast<double>(tk);
  const auto m = static_cast<double>(std::min(tq, tk));
  return m * (m + 1) / 2 + static_cast<double>(tq - std::min(tq, tk)) * static_cast<double>(tk);
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, bool causal,
                                    const Tensor& mask, double dropout_p, bool training, double scale) {
  const auto [q, k, v] = autocast::lower(q_in, k_in, v_in);
  check_operands(q, k, v, mask, dropout_p);
  const Shape lead = leading(q);
  // Leading dims [..., H] flatten to [batch, H]; a rank-2 problem is one head.
  const int64_t heads = lead.empty() ? 1 : lead.back();
  const int64_t batch = lead.empty() ? 1 : numel_of(Shape(lead.begin(), lead.end() - 1));
  const int64_t tq = q.size(-2), tk = k.size(-2), d = q.size(-1), dv = v.size(-1);

  Backend::AttentionParams p;
  p.scale = scale != 0 ? scale : d > 0 ? 1 / std::sqrt(static_cast<double>(d)) : 1;
  p.causal = causal;
  if (training && dropout_p > 0) {
    const GeneratorState stream = next_stream();
    p.dropout_p = dropout_p;
    p.seed = stream.seed;
    p.offset = stream.offset;
  }
  const DType dtype = q.dtype();
  Tensor q4 = unit_rows(as_heads(q, batch, heads), dtype), k4 = unit_rows(as_heads(k, batch, heads), dtype),
         v4 = unit_rows(as_heads(v, batch, heads), dtype);
  Tensor m4;
  if (mask.defined()) {
    Shape scores = lead;
    scores.push_back(tq);
    scores.push_back(tk);
    m4 = as_heads(broadcast_view(mask, scores, kOp), batch, heads);
  }
  Tensor out = empty_heads(q4, tq, dv, dtype);
  // The lse keeps the compute precision: bf16 would perturb the recomputed probabilities.
  const DType lse_dtype = compute_dtype(dtype);
  Tensor lse = empty({batch, heads, tq}, {.dtype = lse_dtype, .device = q.device()});
  backend_for(q.device()).attention(q4, k4, v4, m4, p, out, lse);
  // QK^T, softmax (5 per score), PV; the backward recomputes QK^T and the probabilities (2 per
  // score), forms dV, dP, dS (2 per score), dQ, dK and the rows' delta = rowsum(dO o O).
  const double heads_total = static_cast<double>(batch * heads), s = scores_counted(tq, tk, causal);
  const auto dd = static_cast<double>(d), ddv = static_cast<double>(dv);
  count_flops("attention", heads_total * s * (2 * dd + 2 * ddv + 5));
  const double backward_flops =
      heads_total * (s * (6 * dd + 4 * ddv + 4) + 2 * static_cast<double>(tq) * ddv);

  // out [batch, H, Tq, Dv] seen with q's leading dims: the batch dims split batch's stride.
  Shape out_shape = lead;
  out_shape.push_back(tq);
  out_shape.push_back(dv);
  const auto rank = static_cast<int64_t>(out_shape.size());
  Strides out_strides(out_shape.size());
  auto at = [](auto& v, int64_t i) -> auto& { return v[static_cast<size_t>(i)]; };
  at(out_strides, rank - 1) = out.stride(3);
  at(out_strides, rank - 2) = out.stride(2);
  if (rank > 2) at(out_strides, rank - 3) = out.stride(1);
  for (int64_t d = rank - 4; d >= 0; --d)
    at(out_strides, d) = d == rank - 4 ? out.stride(0) : at(out_strides, d + 1) * at(out_shape, d + 1);
  Tensor result = as_strided(out, out_shape, out_strides, out.offset());
  return record(kOp, result, {q, k, v},
                [sq = Saved(q4, kOp), sk = Saved(k4, kOp), sv = Saved(v4, kOp), sm = Saved(m4, kOp),
                 so = Saved(out, kOp), lse, p, q_shape = q.shape(), k_shape = k.shape(),
                 v_shape = v.shape(), backward_flops](const Tensor& g) {
    Tensor qv = sq.get(), kv = sk.get(), vv = sv.get(), ov = so.get();
    Tensor g4 = unit_rows(as_heads(g, ov.size(0), ov.size(1)), ov.dtype());
    Tensor gq = empty_heads(qv, qv.size(2), qv.size(3), qv.dtype()), gk = empty_heads(kv, kv.size(2), kv.size(3), kv.dtype()),
           gv = empty_heads(vv, vv.size(2), vv.size(3), vv.dtype());
    backend_for(ov.device()).attention_backward(qv, kv, vv, sm.get(), ov, lse, g4, p, gq, gk, gv);
    count_flops("attention", backward_flops);
    return std::vector<Tensor>{reshape(gq, q_shape), reshape(gk, k_shape), reshape(gv, v_shape)};
  });
}

}  // namespace ember
