// Unary elementwise kernels: math and activations, one kernel per op and dtype, with the CPU
// backend's formulas (unary.cpp there) in the same compute type.
#include <cmath>
#include <numbers>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"
#include "backends/cuda/enum_dispatch.h"

namespace ember {
namespace {

template <typename>
constexpr bool kNoFormula = false;

template <UnaryOp Op, typename C>
__device__ __forceinline__ C unary_value(C v, C a, C b) {
  if constexpr (Op == UnaryOp::Neg) return -v;
  else if constexpr (Op == UnaryOp::Exp) return std::exp(v);
  else if constexpr (Op == UnaryOp::Log) return std::log(v);
  else if constexpr (Op == UnaryOp::Sqrt) return std::sqrt(v);
  else if constexpr (Op == UnaryOp::Rsqrt) return C(1) / std::sqrt(v);
  else if constexpr (Op == UnaryOp::Abs) return std::abs(v);
  else if constexpr (Op == UnaryOp::Sign) return C((v > 0) - (v < 0));
  else if constexpr (Op == UnaryOp::Reciprocal) return C(1) / v;
  else if constexpr (Op == UnaryOp::Square) return v * v;
  else if constexpr (Op == UnaryOp::Erf) return std::erf(v);
  else if constexpr (Op == UnaryOp::Relu) return v < C(0) ? C(0) : v;
  else if constexpr (Op == UnaryOp::Sigmoid) return C(1) / (C(1) + std::exp(-v));
  else if constexpr (Op == UnaryOp::Tanh) return std::tanh(v);
  else if constexpr (Op == UnaryOp::Sin) return std::sin(v);
  else if constexpr (Op == UnaryOp::Cos) return std::cos(v);
  else if constexpr (Op == UnaryOp::GeluErf) return C(0.5) * v * (C(1) + std::erf(v * C(0.5 * std::numbers::sqrt2)));
  else if constexpr (Op == UnaryOp::GeluTanh) {
    const C k = C(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);  // sqrt(2 / pi)
    return C(0.5) * v * (C(1) + std::tanh(k * (v + C(0.044715) * v * v * v)));
  } else if constexpr (Op == UnaryOp::Silu) return v / (C(1) + std::exp(-v));
  else if constexpr (Op == UnaryOp::Softplus) return (v > C(0) ? v : C(0)) + std::log1p(std::exp(-std::abs(v)));
  else if constexpr (Op == UnaryOp::Affine) return a * v + b;
  else if constexpr (Op == UnaryOp::PowScalar) return std::pow(v, a);
  else if constexpr (Op == UnaryOp::Clamp) return std::min(std::max(v, a), b);
  else if constexpr (Op == UnaryOp::LeakyRelu) return v > C(0) ? v : a * v;
  else if constexpr (Op == UnaryOp::GeluErfGrad) {
    const C inv_sqrt_2pi = C(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
    return C(0.5) * (C(1) + std::erf(v * C(0.5 * std::numbers::sqrt2))) + v * std::exp(C(-0.5) * v * v) * inv_sqrt_2pi;
  } else if constexpr (Op == UnaryOp::GeluTanhGrad) {
    const C k = C(std::numbers::sqrt2 * std::numbers::inv_sqrtpi), c = C(0.044715);
    const C t = std::tanh(k * (v + c * v * v * v));
    return C(0.5) * (C(1) + t) + C(0.5) * v * (C(1) - t * t) * k * (C(1) + C(3) * c * v * v);
  }
  else static_assert(kNoFormula<C>, "unary_value: an op without a formula");
}

template <typename T, UnaryOp Op>
struct UnaryFn {
  T* out;
  const T* x;
  compute_t<T> alpha, beta;
  __device__ void operator()(const int64_t (&off)[2]) const {
    out[off[0]] = cuda::narrow<T>(unary_value<Op>(cuda::widen(x[off[1]]), alpha, beta));
  }
  bool aligned4() const { return cuda::aligned4(out, x); }
  __device__ void vec4(int64_t i) const {
    const cuda::Pack4<T> in = cuda::load4(x + i);
    cuda::Pack4<T> r;
#pragma unroll
    for (int j = 0; j < 4; ++j) r.v[j] = cuda::narrow<T>(unary_value<Op>(cuda::widen(in.v[j]), alpha, beta));
    cuda::store4(out + i, r);
  }
};

}  // namespace

void CudaBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) {
  cuda::check_on_device("unary", {&x, &out});
  const auto layout = cuda::make_layout<2>("unary", out.shape(), {&out.strides(), &x.strides()});
  dispatch_floating(x.dtype(), "unary", [&]<typename T>() {
    using C = compute_t<T>;
    T* o = static_cast<T*>(out.data_ptr());
    const T* in = static_cast<const T*>(x.data_ptr());
    cuda::dispatch_enum<UnaryOp, static_cast<int>(UnaryOp::GeluTanhGrad) + 1>(op, "unary", [&]<UnaryOp Op>() {
      cuda::launch_elementwise(layout, UnaryFn<T, Op>{o, in, static_cast<C>(alpha), static_cast<C>(beta)});
    });
  });
}

}  // namespace ember
