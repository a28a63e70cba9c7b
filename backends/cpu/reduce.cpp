// Reductions: sum, max, min, argmax, argmin over any set of dims.
#include <algorithm>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided.h"

namespace ember {
namespace {

// Moves the reduced dims last, so that every output element reduces one contiguous-or-strided
// "row" of length R; returns (rows view shape/strides).
struct Rows {
  Shape outer_shape;
  Strides outer_strides;
  Shape inner_shape;
  Strides inner_strides;
};

Rows split_dims(const Tensor& x, const std::vector<int>& dims) {
  Rows r;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    bool reduced = std::find(dims.begin(), dims.end(), static_cast<int>(d)) != dims.end();
    (reduced ? r.inner_shape : r.outer_shape).push_back(x.shape()[d]);
    (reduced ? r.inner_strides : r.outer_strides).push_back(x.strides()[d]);
  }
  return r;
}

int64_t offset_of(int64_t linear, const Shape& shape, const Strides& strides) {
  int64_t off = 0;
  for (size_t d = shape.size(); d-- > 0;) {
    off += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return off;
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int>& dims, const Tensor& out) {
  Rows r = split_dims(x, dims);
  const int64_t outer = numel_of(r.outer_shape), inner = numel_of(r.inner_shape);
  const bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  check(!(arg && dims.size() != 1), "reduce: argmax/argmin take exactly one dim");
  check(inner > 0 || op == ReduceOp::Sum, "reduce: max/min/argmax of an empty dimension in shape ", x.shape());
  // A row is one stride apart when the reduced dims collapse to one strided run.
  auto collapsed = cpu::collapse<1>(r.inner_shape, {&r.inner_strides});
  const bool single_run = collapsed.shape.size() == 1;
  const int64_t run_stride = collapsed.strides[0][0];
  dispatch_all(x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    const T* base = static_cast<const T*>(x.data_ptr());
#pragma omp parallel for if (outer * inner >= cpu::kParallelGrain && outer > 1)
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = base + offset_of(o, r.outer_shape, r.outer_strides);
      auto at = [&](int64_t i) -> C {
        return static_cast<C>(single_run ? row[i * run_stride] : row[offset_of(i, r.inner_shape, r.inner_strides)]);
      };
      if (op == ReduceOp::Sum) {
        C acc = 0;
        if (single_run && run_stride == 1) {
#pragma omp simd reduction(+ : acc)
          for (int64_t i = 0; i < inner; ++i) acc += static_cast<C>(row[i]);
        } else {
          for (int64_t i = 0; i < inner; ++i) acc += at(i);
        }
        static_cast<T*>(out.data_ptr())[o] = static_cast<T>(acc);
        continue;
      }
      const bool want_max = op == ReduceOp::Max || op == ReduceOp::ArgMax;
      C best = at(0);
      int64_t best_i = 0;
      for (int64_t i = 1; i < inner; ++i) {
        C v = at(i);
        if (best != best) break;  // NaN wins, as in PyTorch
        if (v != v || (want_max ? v > best : v < best)) {
          best = v;
          best_i = i;
        }
      }
      if (arg) static_cast<int64_t*>(out.data_ptr())[o] = best_i;
      else static_cast<T*>(out.data_ptr())[o] = static_cast<T>(best);
    }
  });
}

}  // namespace ember
