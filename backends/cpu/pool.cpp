// Pooling: plain loops, one task per (n, c) plane, reading x and gy through their strides.
#include <algorithm>
#include <limits>
#include <vector>

#include "backends/cpu/conv_fallback.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided.h"

namespace ember {
namespace {

// The input positions [lo, hi) that output position i pools along one axis, and the count its
// mean divides by (fixed windows count padding, as PyTorch's count_include_pad).
struct Span {
  int64_t lo, hi, count;
};

Span span(bool adaptive, int64_t i, int64_t kernel, int64_t stride, int64_t pad, int64_t in, int64_t out) {
  if (adaptive) {
    const int64_t lo = i * in / out, hi = ((i + 1) * in + out - 1) / out;
    return {lo, hi, hi - lo};
  }
  const int64_t start = i * stride - pad;
  return {std::max<int64_t>(start, 0), std::min(start + kernel, in), kernel};
}

// fn(base, plane, oh, ow, row span, column span) for every window of x's planes into y's,
// where base is the offset of the plane (n, c) = (plane / C, plane % C) in `strided` (x or gy).
// Each plane is one task, so a task may scatter into its own plane.
template <typename Fn>
void for_each_window(const Backend::Pool2dParams& p, const Shape& x, const Shape& y, const Tensor& strided, Fn fn) {
  const int64_t planes = x[0] * x[1], OH = y[2], OW = y[3];
  const Strides& s = strided.strides();
#pragma omp parallel for schedule(static) if (planes * x[2] * x[3] >= cpu::kParallelGrain)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const int64_t base = (plane / x[1]) * s[0] + (plane % x[1]) * s[1];
    for (int64_t oh = 0; oh < OH; ++oh) {
      const Span r = span(p.adaptive, oh, p.kernel_h, p.stride_h, p.pad_h, x[2], OH);
      for (int64_t ow = 0; ow < OW; ++ow)
        fn(base, plane, oh, ow, r, span(p.adaptive, ow, p.kernel_w, p.stride_w, p.pad_w, x[3], OW));
    }
  }
}

}  // namespace

void CpuBackend::max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y, const Tensor& indices) {
  check(!p.adaptive, "max_pool2d: adaptive windows are not supported (input ", x.shape(), ")");
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>() {
    using C = compute_t<T>;
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    int64_t* ip = indices.data<int64_t>();
    const int64_t channels = x.size(1), H = x.size(2), W = x.size(3), OH = y.size(2), OW = y.size(3);
    const Strides& s = x.strides();
    // A whole output row is updated tap by tap, so the inner loop runs over independent outputs
    // (no chain of compares through one window) and selects without branching: on random data a
    // branch there mispredicts half the time.
#pragma omp parallel for schedule(static) if (x.numel() >= cpu::kParallelGrain)
    for (int64_t plane = 0; plane < x.size(0) * channels; ++plane) {
      // Copies of the geometry local to the task: the compiler must not reload them after
      // every store into the outputs.
      const int64_t stride_w = p.stride_w, sw = s[3];
      const T* xc = xp + (plane / channels) * s[0] + (plane % channels) * s[1];
      std::vector<C> best_row(static_cast<size_t>(OW));
      C* best = best_row.data();
      for (int64_t oh = 0; oh < OH; ++oh) {
        const Span r = span(false, oh, p.kernel_h, p.stride_h, p.pad_h, H, OH);
        int64_t* arg = ip + (plane * OH + oh) * OW;
        for (int64_t ow = 0; ow < OW; ++ow) {
          best[ow] = -std::numeric_limits<C>::infinity();
          arg[ow] = r.lo * W + std::max<int64_t>(ow * stride_w - p.pad_w, 0);
        }
        for (int64_t h = r.lo; h < r.hi; ++h) {
          const T* row = xc + h * s[2];
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const cpu::TapRange k = cpu::outputs_inside(kw - p.pad_w, stride_w, W, OW);
            const int64_t first = h * W + k.offset;
#pragma omp simd
            for (int64_t ow = k.lo; ow < k.hi; ++ow) {
              const C v = static_cast<C>(row[(ow * stride_w + k.offset) * sw]);
              const bool take = v > best[ow] || v != v;  // NaN wins, as in PyTorch
              best[ow] = take ? v : best[ow];
              arg[ow] = take ? first + ow * stride_w : arg[ow];
            }
          }
        }
        T* out = yp + (plane * OH + oh) * OW;
        for (int64_t ow = 0; ow < OW; ++ow) out[ow] = static_cast<T>(best[ow]);
      }
    }
  });
}

void CpuBackend::max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Tensor& gx) {
  fill(gx, 0.0);
  dispatch_floating(gx.dtype(), "max_pool2d", [&]<typename T>() {
    const T* gyp = gy.data<T>();
    const int64_t* ip = indices.data<int64_t>();
    T* gxp = gx.data<T>();
    const int64_t C = gx.size(1), in_plane = gx.size(2) * gx.size(3), OH = gy.size(2), OW = gy.size(3);
    const Strides& s = gy.strides();
#pragma omp parallel for schedule(static) if (gx.numel() >= cpu::kParallelGrain)
    for (int64_t plane = 0; plane < gx.size(0) * C; ++plane) {
      T* gxc = gxp + plane * in_plane;
      const T* gyc = gyp + (plane / C) * s[0] + (plane % C) * s[1];
      const int64_t* ic = ip + plane * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          T& dst = gxc[ic[oh * OW + ow]];
          dst = static_cast<T>(static_cast<compute_t<T>>(dst) + static_cast<compute_t<T>>(gyc[oh * s[2] + ow * s[3]]));
        }
    }
  });
}

void CpuBackend::avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y) {
  dispatch_floating(x.dtype(), "avg_pool2d", [&]<typename T>() {
    using C = compute_t<T>;
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    const int64_t OW = y.size(3), out_plane = y.size(2) * OW, sh = x.stride(2), sw = x.stride(3);
    for_each_window(p, x.shape(), y.shape(), x, [&](int64_t base, int64_t plane, int64_t oh, int64_t ow, const Span& r,
                                                     const Span& c) {
      C acc = 0;
      for (int64_t h = r.lo; h < r.hi; ++h)
        for (int64_t w = c.lo; w < c.hi; ++w) acc += static_cast<C>(xp[base + h * sh + w * sw]);
      yp[plane * out_plane + oh * OW + ow] = static_cast<T>(acc / static_cast<C>(r.count * c.count));
    });
  });
}

void CpuBackend::avg_pool2d_backward(const Tensor& gy, const Pool2dParams& p, const Tensor& gx) {
  fill(gx, 0.0);
  dispatch_floating(gx.dtype(), "avg_pool2d", [&]<typename T>() {
    using C = compute_t<T>;
    const T* gyp = gy.data<T>();
    T* gxp = gx.data<T>();
    const int64_t W = gx.size(3), in_plane = gx.size(2) * W, sh = gy.stride(2), sw = gy.stride(3);
    for_each_window(p, gx.shape(), gy.shape(), gy, [&](int64_t base, int64_t plane, int64_t oh, int64_t ow,
                                                       const Span& r, const Span& c) {
      const C share = static_cast<C>(gyp[base + oh * sh + ow * sw]) / static_cast<C>(r.count * c.count);
      T* gxc = gxp + plane * in_plane;
      for (int64_t h = r.lo; h < r.hi; ++h)
        for (int64_t w = c.lo; w < c.hi; ++w) gxc[h * W + w] = static_cast<T>(static_cast<C>(gxc[h * W + w]) + share);
    });
  });
}

}  // namespace ember
