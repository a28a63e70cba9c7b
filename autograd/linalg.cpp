// matmul: NumPy's rules reduce every case to one batched product of operands of rank >= 2,
// whose backward is two more products summed back over the broadcast batch dims.
#include "autograd/linalg.h"

#include <array>

#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/flops.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"

namespace ember {
namespace {

Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

Shape batch_of(const Tensor& x) { return Shape(x.shape().begin(), x.shape().end() - 2); }

// Backends read a matrix as a GEMM does: one unit stride and a leading dimension that keeps the
// rows (or columns) apart. Anything else (strided in both dims, rows broadcast by expand) is
// copied, which costs far less than the product itself.
Tensor gemm_operand(const Tensor& x) {
  const int64_t rows = x.size(-2), cols = x.size(-1), sr = x.stride(-2), sc = x.stride(-1);
  const bool readable = (sc == 1 && sr >= cols) || (sr == 1 && sc >= rows);
  return readable ? x : dispatch::contiguous(x, x.dtype());
}

// out = a @ b through the backend, with a [..., M, K] and b [..., K, N] broadcast to `batch`.
// The backend takes a single batch dim, so the batch dims of a, b and out are merged where all
// three strides allow it, and the calls loop over the rest ([2,1,3,4] x [5,4,6]: 2 calls of 5).
Tensor product(const Tensor& a, const Tensor& b, const Shape& batch) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Tensor out = dispatch::empty_like(a, with_matrix(batch, m, n));
  // 2 m n k per product, every batch entry (broadcast ones included) computed.
  count_flops("matmul", 2.0 * static_cast<double>(out.numel()) * static_cast<double>(k));
  if (out.numel() == 0) return out;
  const std::array<Tensor, 3> ops{broadcast_view(a, with_matrix(batch, m, k), "matmul"),
                                  broadcast_view(b, with_matrix(batch, k, n), "matmul"), out};
  Shape shape;
  std::array<Strides, 3> strides;
  for (size_t d = 0; d < batch.size(); ++d) {
    if (batch[d] == 1) continue;
    bool merge = !shape.empty();
    for (size_t i = 0; i < 3 && merge; ++i) merge = strides[i].back() == ops[i].strides()[d] * batch[d];
    if (merge) shape.back() *= batch[d];
    else shape.push_back(batch[d]);
    for (size_t i = 0; i < 3; ++i) {
      if (merge) strides[i].back() = ops[i].strides()[d];
      else strides[i].push_back(ops[i].strides()[d]);
    }
  }
  if (shape.empty()) {
    shape.push_back(1);
    for (Strides& s : strides) s.push_back(0);
  }
  const int64_t inner = shape.back(), outer = numel_of(shape) / inner;
  Backend& backend = backend_for(a.device());
  for (int64_t o = 0; o < outer; ++o) {
    std::array<Tensor, 3> views;
    for (size_t i = 0; i < 3; ++i) {
      int64_t offset = ops[i].offset(), rest = o;
      for (size_t d = shape.size() - 1; d-- > 0;) {
        offset += rest % shape[d] * strides[i][d];
        rest /= shape[d];
      }
      views[i] = as_strided(ops[i], {inner, ops[i].size(-2), ops[i].size(-1)},
                            {strides[i].back(), ops[i].stride(-2), ops[i].stride(-1)}, offset);
    }
    backend.matmul(views[0], views[1], views[2]);
  }
  return out;
}

// The product of a [..., M, K] and b [..., K, N] (rank >= 2, inner dims already checked).
Tensor batched(const Tensor& a, const Tensor& b) {
  Shape batch;
  try {
    batch = broadcast_shapes(batch_of(a), batch_of(b), "matmul");
  } catch (const Error&) {
    fail("matmul: ", a.shape(), " x ", b.shape(), ": batch dimensions ", batch_of(a), " and ", batch_of(b),
         " cannot be broadcast");
  }
  Tensor out = product(gemm_operand(a), gemm_operand(b), batch);
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  // A matrix b stored transposed (linear's W^T) gets its gradient in that layout, as the
  // transpose of the contiguous product g^T a: the gradient of W then arrives contiguous, and
  // its casts and accumulation run on dense memory.
  const bool b_transposed = a.dim() == 2 && b.dim() == 2 && b.size(0) > 1 && b.size(1) > 1 && b.stride(0) == 1 &&
                            b.stride(1) >= b.size(0);
  // Each gradient needs only the other operand, so only that one is kept alive.
  return record("matmul", out, {a, b},
                [a = Saved(need_b ? a : Tensor(), "matmul"), b = Saved(need_a ? b : Tensor(), "matmul"),
                 sa = a.shape(), sb = b.shape(), need_a, need_b, b_transposed](const Tensor& g) {
                  Tensor ga = need_a ? sum_to(matmul(g, transpose(b.get(), -1, -2)), sa) : Tensor();
                  Tensor gb;
                  if (need_b && b_transposed) gb = transpose(matmul(transpose(g, 0, 1), a.get()), 0, 1);
                  else if (need_b) gb = sum_to(matmul(transpose(a.get(), -1, -2), g), sb);
                  return std::vector<Tensor>{ga, gb};
                });
}

// Whether a's dims before the last merge into one without a copy.
bool rows_merge(const Tensor& a) {
  int64_t expected = -1;
  for (int64_t d = a.dim() - 2; d >= 0; --d) {
    if (a.size(d) == 1) continue;
    if (expected >= 0 && a.stride(d) != expected) return false;
    expected = a.stride(d) * a.size(d);
  }
  return true;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b] = autocast::lower(a_in, b_in);
  dispatch::check_same("matmul", a, b);
  dispatch::check_floating("matmul", a);
  check(a.dim() > 0 && b.dim() > 0, "matmul: ", a.shape(), " x ", b.shape(),
        ": 0-d operands have no matrix product (use mul)");
  const int64_t ka = a.size(-1), kb = b.size(b.dim() == 1 ? 0 : -2);
  check(ka == kb, "matmul: ", a.shape(), " x ", b.shape(), ": inner dimensions ", ka, " and ", kb, " differ");
  const Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
  const Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  Tensor out;
  if (a2.dim() > 2 && b2.dim() == 2 && rows_merge(a2)) {
    // [..., M, K] x [K, N] as one [...*M, K] x [K, N] GEMM: one large product instead of many
    // small ones, and b's gradient becomes one GEMM instead of a batch summed afterwards.
    const int64_t rows = numel_of(batch_of(a2)) * a2.size(-2);
    out = reshape(batched(reshape(a2, {rows, ka}), b2), with_matrix(batch_of(a2), a2.size(-2), b2.size(-1)));
  } else {
    out = batched(a2, b2);
  }
  if (a.dim() > 1 && b.dim() > 1) return out;
  Shape shape = out.shape();
  if (b.dim() == 1) shape.pop_back();
  if (a.dim() == 1) shape.erase(shape.end() - (b.dim() == 1 ? 1 : 2));
  return reshape(out, shape);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check(weight.dim() == 2, "linear: weight ", weight.shape(), " must be [out_features, in_features]");
  check(x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input ", x.shape(), " does not end in in_features = ",
        weight.size(1), " of weight ", weight.shape());
  // The message's parts are evaluated before check() runs: read bias.shape() only when it exists.
  if (bias.defined())
    check(bias.shape() == Shape{weight.size(0)}, "linear: bias ", bias.shape(), " must be [out_features] = [",
          weight.size(0), "]");
  const auto [xc, wc, bc] = autocast::lower(x, weight, bias);
  Tensor y = matmul(xc, transpose(wc, 0, 1));
  return bc.defined() ? y + bc : y;
}

}  // namespace ember
