// Unary elementwise kernels: math and activations.
#include <cmath>
#include <numbers>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/map.h"
#include "backends/cpu/vec_math.h"

namespace ember {

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) {
  dispatch_floating(x.dtype(), "unary", [&]<typename T>() {
    using C = compute_t<T>;
    const C a = static_cast<C>(alpha), b = static_cast<C>(beta);
    auto run = [&](auto f) { cpu::map1<T>(x, out, f); };
    switch (op) {
      case UnaryOp::Neg: return run([](C v) { return -v; });
      case UnaryOp::Exp: return run([](C v) { return std::exp(v); });
      case UnaryOp::Log: return run([](C v) { return std::log(v); });
      case UnaryOp::Sqrt: return run([](C v) { return std::sqrt(v); });
      case UnaryOp::Rsqrt: return run([](C v) { return C(1) / std::sqrt(v); });
      case UnaryOp::Abs: return run([](C v) { return std::abs(v); });
      case UnaryOp::Sign: return run([](C v) { return C((v > 0) - (v < 0)); });
      case UnaryOp::Reciprocal: return run([](C v) { return C(1) / v; });
      case UnaryOp::Square: return run([](C v) { return v * v; });
      case UnaryOp::Erf: return run([](C v) { return cpu::verf(v); });
      case UnaryOp::Relu: return run([](C v) { return v < C(0) ? C(0) : v; });  // NaN stays NaN, as in PyTorch
      case UnaryOp::Sigmoid: return run([](C v) { return C(1) / (C(1) + std::exp(-v)); });
      case UnaryOp::Tanh: return run([](C v) { return std::tanh(v); });
      case UnaryOp::Sin: return run([](C v) { return std::sin(v); });
      case UnaryOp::Cos: return run([](C v) { return std::cos(v); });
      case UnaryOp::GeluErf:
        return run([](C v) { return C(0.5) * v * (C(1) + cpu::verf(v * C(0.5 * std::numbers::sqrt2))); });
      case UnaryOp::GeluErfGrad:  // Phi(x) + x phi(x)
        return run([](C v) {
          const C inv_sqrt_2pi = C(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
          return C(0.5) * (C(1) + cpu::verf(v * C(0.5 * std::numbers::sqrt2))) +
                 v * cpu::vexp(C(-0.5) * v * v) * inv_sqrt_2pi;
        });
      case UnaryOp::GeluTanh:
        return run([](C v) {
          const C k = C(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);  // sqrt(2 / pi)
          return C(0.5) * v * (C(1) + std::tanh(k * (v + C(0.044715) * v * v * v)));
        });
      case UnaryOp::GeluTanhGrad:  // 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2), t = tanh(k (x + c x^3))
        return run([](C v) {
          const C k = C(std::numbers::sqrt2 * std::numbers::inv_sqrtpi), c = C(0.044715);
          const C t = std::tanh(k * (v + c * v * v * v));
          return C(0.5) * (C(1) + t) + C(0.5) * v * (C(1) - t * t) * k * (C(1) + C(3) * c * v * v);
        });
      case UnaryOp::Silu: return run([](C v) { return v / (C(1) + std::exp(-v)); });
      case UnaryOp::Softplus:  // log(1 + e^v), stable for large |v|
        return run([](C v) { return std::max(v, C(0)) + std::log1p(std::exp(-std::abs(v))); });
      case UnaryOp::Affine: return run([a, b](C v) { return a * v + b; });
      case UnaryOp::PowScalar: return run([a](C v) { return std::pow(v, a); });
      case UnaryOp::Clamp: return run([a, b](C v) { return std::min(std::max(v, a), b); });
      case UnaryOp::LeakyRelu: return run([a](C v) { return v > C(0) ? v : a * v; });
    }
  });
}

}  // namespace ember
