// Max and average pooling on CUDA (fixed and adaptive windows), one thread per output element;
// the inputs and incoming gradients are read through their strides. Max pool's backward adds
// gy at the saved indices with atomics (it has no window geometry to gather by); average pool's
// backward gathers, each input pixel summing the shares of the windows that hold it, in the
// CPU's order.
#include <cuda_bf16.h>

#include <limits>
#include <type_traits>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"

namespace ember {
namespace {

using Params = Backend::Pool2dParams;

// The input positions [lo, hi) that output position i pools along one axis, and the count its
// mean divides by (fixed windows count padding, as PyTorch's count_include_pad): as on the CPU.
struct Span {
  int64_t lo, hi, count;
};

__device__ Span span(bool adaptive, int64_t i, int64_t kernel, int64_t stride, int64_t pad, int64_t in, int64_t out) {
  if (adaptive) {
    const int64_t lo = i * in / out, hi = ((i + 1) * in + out - 1) / out;
    return {lo, hi, hi - lo};
  }
  const int64_t start = i * stride - pad, end = start + kernel;
  return {start > 0 ? start : 0, end < in ? end : in, kernel};
}

// The outputs [lo, hi) whose windows may hold input position j (a superset; callers test span).
__device__ Span outputs_of(bool adaptive, int64_t j, int64_t kernel, int64_t stride, int64_t pad, int64_t in,
                           int64_t out) {
  int64_t lo, hi;
  if (adaptive) {
    lo = j * out / in;
    hi = ((j + 1) * out + in - 1) / in;
  } else {
    const int64_t first = j + pad - kernel + 1;  // the lowest window start that reaches j
    lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    hi = (j + pad) / stride + 1;
  }
  return {lo, hi < out ? hi : out, 0};
}

// The shape of one pooling, x [N,C,H,W] -> y [N,C,OH,OW], and the strided operand's strides.
struct Shape4 {
  int64_t C, H, W, OH, OW;
  int64_t s[4];
};

Shape4 shape_of(const Tensor& x, const Tensor& y, const Tensor& strided) {
  const Strides& s = strided.strides();
  return {x.size(1), x.size(2), x.size(3), y.size(2), y.size(3), {s[0], s[1], s[2], s[3]}};
}

// y and indices at output i (contiguous); the first maximum wins, a NaN wins over numbers and
// the last NaN over earlier ones, as in the CPU's loop.
template <typename T>
struct MaxPool {
  const T* x;
  T* y;
  int64_t* indices;
  Shape4 g;
  Params p;
  __device__ void operator()(const int64_t (&off)[1]) const {
    using C = compute_t<T>;
    const int64_t i = off[0], ow = i % g.OW, oh = (i / g.OW) % g.OH, plane = i / (g.OW * g.OH);
    const T* xc = x + (plane / g.C) * g.s[0] + (plane % g.C) * g.s[1];
    const Span r = span(false, oh, p.kernel_h, p.stride_h, p.pad_h, g.H, g.OH);
    const Span c = span(false, ow, p.kernel_w, p.stride_w, p.pad_w, g.W, g.OW);
    C best = -std::numeric_limits<C>::infinity();
    int64_t arg = r.lo * g.W + c.lo;
    for (int64_t h = r.lo; h < r.hi; ++h)
      for (int64_t w = c.lo; w < c.hi; ++w) {
        const C v = cuda::widen(xc[h * g.s[2] + w * g.s[3]]);
        if (v > best || cuda::is_nan(v)) {
          best = v;
          arg = h * g.W + w;
        }
      }
    y[i] = cuda::narrow<T>(best);
    indices[i] = arg;
  }
};

template <typename T>
__device__ void atomic_add(T* dst, T v) {
  if constexpr (std::is_same_v<T, bf16>) atomicAdd(reinterpret_cast<__nv_bfloat16*>(dst), __ushort_as_bfloat16(v.bits));
  else atomicAdd(dst, v);
}

// gx[plane][indices[i]] += gy[i] for output i.
template <typename T>
struct MaxPoolBackward {
  const T* gy;
  const int64_t* indices;
  T* gx;
  Shape4 g;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0], ow = i % g.OW, oh = (i / g.OW) % g.OH, plane = i / (g.OW * g.OH);
    const T v = gy[(plane / g.C) * g.s[0] + (plane % g.C) * g.s[1] + oh * g.s[2] + ow * g.s[3]];
    atomic_add(gx + plane * g.H * g.W + indices[i], v);
  }
};

template <typename T>
struct AvgPool {
  const T* x;
  T* y;
  Shape4 g;
  Params p;
  __device__ void operator()(const int64_t (&off)[1]) const {
    using C = compute_t<T>;
    const int64_t i = off[0], ow = i % g.OW, oh = (i / g.OW) % g.OH, plane = i / (g.OW * g.OH);
    const T* xc = x + (plane / g.C) * g.s[0] + (plane % g.C) * g.s[1];
    const Span r = span(p.adaptive, oh, p.kernel_h, p.stride_h, p.pad_h, g.H, g.OH);
    const Span c = span(p.adaptive, ow, p.kernel_w, p.stride_w, p.pad_w, g.W, g.OW);
    C acc = 0;
    for (int64_t h = r.lo; h < r.hi; ++h)
      for (int64_t w = c.lo; w < c.hi; ++w) acc += cuda::widen(xc[h * g.s[2] + w * g.s[3]]);
    y[i] = cuda::narrow<T>(acc / static_cast<C>(r.count * c.count));
  }
};

// gx at input i (contiguous) = the sum, over the windows holding it, of gy / the window's count.
template <typename T>
struct AvgPoolBackward {
  const T* gy;
  T* gx;
  Shape4 g;
  Params p;
  __device__ void operator()(const int64_t (&off)[1]) const {
    using C = compute_t<T>;
    const int64_t i = off[0], w = i % g.W, h = (i / g.W) % g.H, plane = i / (g.W * g.H);
    const T* gyc = gy + (plane / g.C) * g.s[0] + (plane % g.C) * g.s[1];
    const Span rows = outputs_of(p.adaptive, h, p.kernel_h, p.stride_h, p.pad_h, g.H, g.OH);
    const Span cols = outputs_of(p.adaptive, w, p.kernel_w, p.stride_w, p.pad_w, g.W, g.OW);
    C acc = 0;
    for (int64_t oh = rows.lo; oh < rows.hi; ++oh) {
      const Span r = span(p.adaptive, oh, p.kernel_h, p.stride_h, p.pad_h, g.H, g.OH);
      if (h < r.lo || h >= r.hi) continue;
      for (int64_t ow = cols.lo; ow < cols.hi; ++ow) {
        const Span c = span(p.adaptive, ow, p.kernel_w, p.stride_w, p.pad_w, g.W, g.OW);
        if (w < c.lo || w >= c.hi) continue;
        acc += cuda::widen(gyc[oh * g.s[2] + ow * g.s[3]]) / static_cast<C>(r.count * c.count);
      }
    }
    gx[i] = cuda::narrow<T>(acc);
  }
};

template <typename F>
void launch(int64_t n, const F& f) {
  cuda::launch_elementwise(cuda::range_layout(n), f);
}

void check_pool(const char* op, const Tensor& x, const Tensor& y) {
  check(x.dim() == 4 && y.dim() == 4 && x.size(0) == y.size(0) && x.size(1) == y.size(1), op,
        ": expected [N,C,H,W] and [N,C,OH,OW] operands, got ", x.shape(), " and ", y.shape());
  check(x.dtype() == y.dtype(), op, ": operands must share one dtype, got ", x.dtype(), " and ", y.dtype());
}

void check_window(const char* op, const Backend::Pool2dParams& p) {
  check(p.adaptive || (p.kernel_h >= 1 && p.kernel_w >= 1 && p.stride_h >= 1 && p.stride_w >= 1), op,
        ": kernel and stride must be positive");
}

}  // namespace

void CudaBackend::max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y, const Tensor& indices) {
  cuda::check_on_device("max_pool2d", {&x, &y, &indices});
  check(!p.adaptive, "max_pool2d: adaptive windows are not supported (input ", x.shape(), ")");
  check_pool("max_pool2d", x, y);
  check_window("max_pool2d", p);
  check(y.is_contiguous() && indices.is_contiguous() && indices.dtype() == DType::I64 && indices.shape() == y.shape(),
        "max_pool2d: expected contiguous outputs and i64 indices of shape ", y.shape());
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>() {
    launch(y.numel(), MaxPool<T>{static_cast<const T*>(x.data_ptr()), static_cast<T*>(y.data_ptr()),
                                 static_cast<int64_t*>(indices.data_ptr()), shape_of(x, y, x), p});
  });
}

void CudaBackend::max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Tensor& gx) {
  cuda::check_on_device("max_pool2d_backward", {&gy, &indices, &gx});
  check_pool("max_pool2d_backward", gx, gy);
  check(gx.is_contiguous() && indices.is_contiguous() && indices.dtype() == DType::I64 && indices.shape() == gy.shape(),
        "max_pool2d_backward: expected a contiguous gradient and contiguous i64 indices of shape ", gy.shape());
  fill(gx, 0.0);
  dispatch_floating(gx.dtype(), "max_pool2d_backward", [&]<typename T>() {
    launch(gy.numel(), MaxPoolBackward<T>{static_cast<const T*>(gy.data_ptr()),
                                          static_cast<const int64_t*>(indices.data_ptr()),
                                          static_cast<T*>(gx.data_ptr()), shape_of(gx, gy, gy)});
  });
}

void CudaBackend::avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y) {
  cuda::check_on_device("avg_pool2d", {&x, &y});
  check_pool("avg_pool2d", x, y);
  check_window("avg_pool2d", p);
  check(y.is_contiguous(), "avg_pool2d: output must be contiguous");
  dispatch_floating(x.dtype(), "avg_pool2d", [&]<typename T>() {
    launch(y.numel(), AvgPool<T>{static_cast<const T*>(x.data_ptr()), static_cast<T*>(y.data_ptr()),
                                 shape_of(x, y, x), p});
  });
}

void CudaBackend::avg_pool2d_backward(const Tensor& gy, const Pool2dParams& p, const Tensor& gx) {
  cuda::check_on_device("avg_pool2d_backward", {&gy, &gx});
  check_pool("avg_pool2d_backward", gx, gy);
  check_window("avg_pool2d_backward", p);
  check(gx.is_contiguous(), "avg_pool2d_backward: gradient must be contiguous");
  dispatch_floating(gx.dtype(), "avg_pool2d_backward", [&]<typename T>() {
    launch(gx.numel(), AvgPoolBackward<T>{static_cast<const T*>(gy.data_ptr()), static_cast<T*>(gx.data_ptr()),
                                          shape_of(gx, gy, gy), p});
  });
}

}  // namespace ember
