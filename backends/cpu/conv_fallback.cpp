// The portable convolution. Each task owns whole output planes (forward: one (n, o); backward
// data: one (n, c); backward weight: one (o, c)), so no two threads write the same element and
// the accumulation order, hence the result, does not depend on the thread count. The innermost
// loop runs along a row over the outputs whose input tap is inside the image, so it has no
// bounds checks and vectorises for stride 1.
#include "backends/cpu/conv_fallback.h"

#include <algorithm>
#include <vector>

#include "backends/cpu/strided.h"

namespace ember::cpu {
namespace {

struct Geometry {
  int64_t N, C, H, W, O, KH, KW, OH, OW;
  int64_t Cg, Og;  // channels per group on the input and output side
  Backend::Conv2dParams p;

  Geometry(const Shape& x, const Shape& w, const Shape& y, const Backend::Conv2dParams& params)
      : N(x[0]), C(x[1]), H(x[2]), W(x[3]), O(w[0]), KH(w[2]), KW(w[3]), OH(y[2]), OW(y[3]), Cg(w[1]),
        Og(w[0] / params.groups), p(params) {}

  int64_t weight_index(int64_t o, int64_t c, int64_t kh, int64_t kw) const { return ((o * Cg + c) * KH + kh) * KW + kw; }
  // The input row / column that output row oh / column ow reads through tap kh / kw.
  int64_t in_row(int64_t oh, int64_t kh) const { return oh * p.stride_h + kh * p.dilation_h - p.pad_h; }
  int64_t in_col(int64_t ow, int64_t kw) const { return ow * p.stride_w + kw * p.dilation_w - p.pad_w; }
};

TapRange rows(const Geometry& g, int64_t kh) { return outputs_inside(g.in_row(0, kh), g.p.stride_h, g.H, g.OH); }
TapRange cols(const Geometry& g, int64_t kw) { return outputs_inside(g.in_col(0, kw), g.p.stride_w, g.W, g.OW); }

template <typename T>
void forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const Geometry& g) {
  using C = compute_t<T>;
  const T *xp = x.data<T>(), *wp = w.data<T>(), *bp = bias.defined() ? bias.data<T>() : nullptr;
  T* yp = y.data<T>();
  const int64_t plane = g.OH * g.OW, sw = g.p.stride_w;
#pragma omp parallel for schedule(static) if (g.N * g.O * plane * g.Cg * g.KH * g.KW >= kParallelGrain)
  for (int64_t task = 0; task < g.N * g.O; ++task) {
    const int64_t n = task / g.O, o = task % g.O, first_c = (o / g.Og) * g.Cg;
    std::vector<C> acc(static_cast<size_t>(plane), bp ? static_cast<C>(bp[o]) : C(0));
    for (int64_t c = 0; c < g.Cg; ++c) {
      const T* xc = xp + (n * g.C + first_c + c) * g.H * g.W;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const TapRange r = rows(g, kh);
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const TapRange k = cols(g, kw);
          const C wv = static_cast<C>(wp[g.weight_index(o, c, kh, kw)]);
          for (int64_t oh = r.lo; oh < r.hi; ++oh) {
            const T* in = xc + g.in_row(oh, kh) * g.W;
            C* out = acc.data() + oh * g.OW;
#pragma omp simd
            for (int64_t ow = k.lo; ow < k.hi; ++ow) out[ow] += wv * static_cast<C>(in[ow * sw + k.offset]);
          }
        }
      }
    }
    T* yo = yp + task * plane;
    for (int64_t i = 0; i < plane; ++i) yo[i] = static_cast<T>(acc[static_cast<size_t>(i)]);
  }
}

template <typename T>
void backward_data(const Tensor& gy, const Tensor& w, const Tensor& gx, const Geometry& g) {
  using C = compute_t<T>;
  const T *gyp = gy.data<T>(), *wp = w.data<T>();
  T* gxp = gx.data<T>();
  const int64_t plane = g.H * g.W, sw = g.p.stride_w;
#pragma omp parallel for schedule(static) if (g.N * g.O * g.OH * g.OW * g.Cg * g.KH * g.KW >= kParallelGrain)
  for (int64_t task = 0; task < g.N * g.C; ++task) {
    const int64_t n = task / g.C, ci = task % g.C, c = ci % g.Cg, first_o = (ci / g.Cg) * g.Og;
    std::vector<C> acc(static_cast<size_t>(plane), C(0));
    for (int64_t o = first_o; o < first_o + g.Og; ++o) {
      const T* gyo = gyp + (n * g.O + o) * g.OH * g.OW;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const TapRange r = rows(g, kh);
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const TapRange k = cols(g, kw);
          const C wv = static_cast<C>(wp[g.weight_index(o, c, kh, kw)]);
          for (int64_t oh = r.lo; oh < r.hi; ++oh) {
            C* in = acc.data() + g.in_row(oh, kh) * g.W;
            const T* out = gyo + oh * g.OW;
            for (int64_t ow = k.lo; ow < k.hi; ++ow) in[ow * sw + k.offset] += wv * static_cast<C>(out[ow]);
          }
        }
      }
    }
    T* gxc = gxp + task * plane;
    for (int64_t i = 0; i < plane; ++i) gxc[i] = static_cast<T>(acc[static_cast<size_t>(i)]);
  }
}

template <typename T>
void backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw, const Tensor& gb, const Geometry& g) {
  using C = compute_t<T>;
  const T *gyp = gy.data<T>(), *xp = x.data<T>();
  T* gwp = gw.data<T>();
  const int64_t out_plane = g.OH * g.OW, sw = g.p.stride_w;
  const bool parallel = g.N * g.O * out_plane * g.Cg * g.KH * g.KW >= kParallelGrain;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t task = 0; task < g.O * g.Cg; ++task) {
    const int64_t o = task / g.Cg, c = task % g.Cg, ci = (o / g.Og) * g.Cg + c;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const TapRange r = rows(g, kh);
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const TapRange k = cols(g, kw);
        C acc = 0;
        for (int64_t n = 0; n < g.N; ++n) {
          const T* gyo = gyp + (n * g.O + o) * out_plane;
          const T* xc = xp + (n * g.C + ci) * g.H * g.W;
          for (int64_t oh = r.lo; oh < r.hi; ++oh) {
            const T* in = xc + g.in_row(oh, kh) * g.W;
            const T* out = gyo + oh * g.OW;
#pragma omp simd reduction(+ : acc)
            for (int64_t ow = k.lo; ow < k.hi; ++ow)
              acc += static_cast<C>(out[ow]) * static_cast<C>(in[ow * sw + k.offset]);
          }
        }
        gwp[g.weight_index(o, c, kh, kw)] = static_cast<T>(acc);
      }
    }
  }
  if (!gb.defined()) return;
  T* gbp = gb.data<T>();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t o = 0; o < g.O; ++o) {
    C acc = 0;
    for (int64_t n = 0; n < g.N; ++n) {
      const T* gyo = gyp + (n * g.O + o) * out_plane;
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < out_plane; ++i) acc += static_cast<C>(gyo[i]);
    }
    gbp[o] = static_cast<T>(acc);
  }
}

}  // namespace

void conv2d_fallback(const Tensor& x, const Tensor& w, const Tensor& bias, const Backend::Conv2dParams& p,
                     const Tensor& y) {
  Geometry g(x.shape(), w.shape(), y.shape(), p);
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() { forward<T>(x, w, bias, y, g); });
}

void conv2d_backward_data_fallback(const Tensor& gy, const Tensor& w, const Backend::Conv2dParams& p,
                                   const Tensor& gx) {
  Geometry g(gx.shape(), w.shape(), gy.shape(), p);
  dispatch_floating(gx.dtype(), "conv2d", [&]<typename T>() { backward_data<T>(gy, w, gx, g); });
}

void conv2d_backward_weight_fallback(const Tensor& gy, const Tensor& x, const Backend::Conv2dParams& p,
                                     const Tensor& gw, const Tensor& gb) {
  Geometry g(x.shape(), gw.shape(), gy.shape(), p);
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() { backward_weight<T>(gy, x, gw, gb, g); });
}

}  // namespace ember::cpu
