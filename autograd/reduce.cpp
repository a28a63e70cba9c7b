#include "autograd/reduce.h"

#include <algorithm>

#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/grad_mode.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/shape_ops.h"
#include "autograd/unary.h"
#include "tensor/creation.h"

namespace ember {
namespace {

// One reduction's dims, checked, and the shapes around it.
struct Reduction {
  std::vector<int> dims;  // sorted, unique, in [0, rank); empty for a 0-d tensor
  Shape kept;             // x's shape with the reduced dims set to 1
  Shape result;           // what the op returns: kept, or kept without the reduced dims
  int64_t count = 1;      // elements folded into each output

  std::vector<int64_t> dims64() const { return {dims.begin(), dims.end()}; }
};

// An empty `dims` means every dim. A 0-d tensor accepts dim 0 and -1, as in PyTorch.
Reduction plan(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, const char* op) {
  Reduction r;
  const int64_t rank = x.dim(), bound = std::max<int64_t>(rank, 1);
  for (int64_t d : dims) {
    check(d >= -bound && d < bound, op, ": dim ", d, " is out of range for shape ", x.shape());
    if (rank > 0) r.dims.push_back(normalize_dim(d, x.shape().size(), op));
  }
  if (dims.empty())
    for (int d = 0; d < rank; ++d) r.dims.push_back(d);
  std::sort(r.dims.begin(), r.dims.end());
  check(std::adjacent_find(r.dims.begin(), r.dims.end()) == r.dims.end(), op, ": repeated dim in ", dims,
        " for shape ", x.shape());
  r.kept = x.shape();
  for (int d : r.dims) {
    r.count *= r.kept[static_cast<size_t>(d)];
    r.kept[static_cast<size_t>(d)] = 1;
  }
  for (size_t i = 0; i < r.kept.size(); ++i)
    if (keepdim || !std::binary_search(r.dims.begin(), r.dims.end(), static_cast<int>(i))) r.result.push_back(r.kept[i]);
  return r;
}

// The backend's output (kept shape) viewed with the op's result shape.
Tensor shaped(const Tensor& out, const Reduction& r) { return as_strided(out, r.result, contiguous_strides(r.result), 0); }

void check_not_empty(const Reduction& r, const Tensor& x, const char* op) {
  check(r.count > 0, op, ": cannot reduce over an empty dimension of shape ", x.shape());
}

Tensor extremum(ReduceOp op, const char* name, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Reduction r = plan(x, dims, keepdim, name);
  check_not_empty(r, x, name);
  Tensor out = dispatch::reduce(op, x, r.dims);
  return record(name, shaped(out, r), {x}, [x = Saved(x, name), out = Saved(out, name), r](const Tensor& g) {
    Tensor xv = x.get();
    Tensor at_extremum = to(eq(xv, out.get()), xv.dtype());
    Tensor ties = sum(at_extremum, r.dims64(), true);
    return std::vector<Tensor>{at_extremum * (reshape(g, r.kept) / ties)};
  });
}

Tensor arg_extremum(ReduceOp op, const char* name, const Tensor& x, int64_t dim, bool keepdim) {
  Reduction r = plan(x, {dim}, keepdim, name);
  check_not_empty(r, x, name);
  if (r.dims.empty()) return zeros({}, {.dtype = DType::I64, .device = x.device()});  // x is 0-d
  return shaped(dispatch::reduce(op, x, r.dims), r);
}

}  // namespace

Tensor sum(const Tensor& x_in, const std::vector<int64_t>& dims, bool keepdim) {
  const auto [x] = autocast::widen(x_in);
  dispatch::check_floating("sum", x);
  Reduction r = plan(x, dims, keepdim, "sum");
  Tensor out = dispatch::reduce(ReduceOp::Sum, x, r.dims);
  return record("sum", shaped(out, r), {x}, [xs = x.shape(), kept = r.kept](const Tensor& g) {
    return std::vector<Tensor>{expand(reshape(g, kept), xs)};
  });
}

Tensor sum(const Tensor& x) { return sum(x, {}, false); }

// The mean of nothing is NaN (0 / 0), as in PyTorch.
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Reduction r = plan(x, dims, keepdim, "mean");
  return sum(x, dims, keepdim) / static_cast<double>(r.count);
}

Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor max(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extremum(ReduceOp::Max, "max", x, dims, keepdim);
}
Tensor max(const Tensor& x) { return max(x, {}, false); }
Tensor min(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extremum(ReduceOp::Min, "min", x, dims, keepdim);
}
Tensor min(const Tensor& x) { return min(x, {}, false); }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) { return arg_extremum(ReduceOp::ArgMax, "argmax", x, dim, keepdim); }
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) { return arg_extremum(ReduceOp::ArgMin, "argmin", x, dim, keepdim); }

// Shifted two-pass variance with the correction term of Chan, Golub and LeVeque:
//   d = x - x0 (x0 the first element of each reduced slice, a constant), e = d - mean(d),
//   var = (sum(e^2) - sum(e)^2 / n) / (n - correction).
// The shift makes a constant slice exactly 0 (d is exactly 0), where a plain two-pass sum can
// leave a rounding residue (1e-16 for identical f64 values); the correction term removes the
// rounding error of the mean. With n <= correction the divisor is clamped at 0, giving NaN (or
// inf), as in PyTorch.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, Correction correction, bool keepdim) {
  dispatch::check_floating("var", x);
  Reduction r = plan(x, dims, keepdim, "var");
  check(correction.value >= 0, "var: correction ", correction.value, " must be >= 0 (x of shape ", x.shape(), ")");
  Tensor shift = detach(x);
  for (int d : r.dims) shift = narrow(shift, d, 0, std::min<int64_t>(1, x.size(d)));
  Tensor d = r.count > 0 ? x - shift : x;
  Tensor e = d - mean(d, dims, true);
  Tensor se = sum(e, dims, keepdim);
  Tensor ss = sum(e * e, dims, keepdim) - se * se / static_cast<double>(std::max<int64_t>(r.count, 1));
  return ss / static_cast<double>(std::max<int64_t>(r.count - correction.value, 0));
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  return var(x, dims, Correction{unbiased ? 1 : 0}, keepdim);
}

// sqrt(var) with PyTorch's gradient at 0: where the deviation is 0 (a constant slice) the
// gradient is 0, not the 0 / 0 = NaN of differentiating sqrt there.
Tensor stddev(const Tensor& x, const std::vector<int64_t>& dims, Correction correction, bool keepdim) {
  Tensor v = var(x, dims, correction, keepdim);
  Tensor s;
  {
    NoGradGuard no_grad;
    s = sqrt(v);
  }
  return record("stddev", s, {v}, [s = Saved(s, "stddev")](const Tensor& g) {
    Tensor sv = s.get();
    Tensor zero = zeros({}, {.dtype = sv.dtype(), .device = sv.device()});
    return std::vector<Tensor>{where(eq(sv, zero), zero, g / (sv * 2.0))};
  });
}

Tensor stddev(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  return stddev(x, dims, Correction{unbiased ? 1 : 0}, keepdim);
}

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  dispatch::check_floating("logsumexp", x);
  Reduction r = plan(x, dims, keepdim, "logsumexp");
  // Subtracting the (constant) max keeps exp() from overflowing. Where the max is infinite
  // or NaN, or there is nothing to reduce, the shift is 0 instead, which still gives +-inf
  // or NaN rather than the NaN of inf - inf.
  Tensor shift = zeros(r.kept, {.dtype = x.dtype(), .device = x.device()});
  if (r.count > 0) {
    Tensor m = max(detach(x), dims, true);
    Tensor d = m - m;
    shift = masked_fill(m, ne(d, d), 0.0);
  }
  return log(sum(exp(x - shift), dims, keepdim)) + reshape(shift, r.result);
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const size_t lead = g.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < g.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) dims.push_back(static_cast<int64_t>(i));
  Tensor s = dims.empty() ? g : sum(g, dims, true);
  return reshape(s, shape);
}

}  // namespace ember
