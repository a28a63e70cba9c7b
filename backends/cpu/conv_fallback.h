#pragma once
// The portable convolution: direct OpenMP loops. CpuBackend's conv2d methods use it for f64 and
// bf16 and in builds without oneDNN; it has its own header so that the backend tests can check
// it against oneDNN on the same inputs even where oneDNN is present.
#include <algorithm>

#include "backends/backend.h"

namespace ember::cpu {

// The outputs [lo, hi) of [0, out) whose input position o * stride + offset lies in [0, in):
// for one kernel tap of a sliding window, the outputs it reaches without bounds checks.
struct TapRange {
  int64_t lo, hi, offset;
};
inline TapRange outputs_inside(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  const int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t hi = std::min(out, in - 1 - offset < 0 ? 0 : (in - 1 - offset) / stride + 1);
  return {std::min(lo, hi), hi, offset};
}

// Same contracts as Backend::conv2d*, except that every operand must be contiguous (bias and
// gb may be undefined). Accumulates in compute_t (float for bf16).
void conv2d_fallback(const Tensor& x, const Tensor& w, const Tensor& bias, const Backend::Conv2dParams& p,
                     const Tensor& y);
void conv2d_backward_data_fallback(const Tensor& gy, const Tensor& w, const Backend::Conv2dParams& p,
                                   const Tensor& gx);
void conv2d_backward_weight_fallback(const Tensor& gy, const Tensor& x, const Backend::Conv2dParams& p,
                                     const Tensor& gw, const Tensor& gb);

}  // namespace ember::cpu
