#pragma once
// The elementwise formulas of elementwise_ops.h as functions both backends compile:
// unary_formula<Op>(v, a, b) and binary_formula<Op>(x, y), in the compute type. The CPU kernels
// (backends/cpu/unary.cpp, binary.cpp) call them inside their strided loops, the CUDA kernels
// (backends/cuda/unary.cu, binary.cu) inside theirs, so both devices compute the same
// expression.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>

#include "backends/backend.h"
#include "backends/fast_math.h"
#include "backends/host_device.h"
#include "backends/integer_math.h"

namespace ember::formulas {

inline constexpr double kSqrtHalf = 0.5 * std::numbers::sqrt2;                        // 1 / sqrt(2)
inline constexpr double kSqrt2OverPi = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;  // sqrt(2 / pi)
inline constexpr double kInvSqrt2Pi = 0.5 * std::numbers::sqrt2 * std::numbers::inv_sqrtpi;  // 1 / sqrt(2 pi)
inline constexpr double kGeluC = 0.044715;

// d/dv of GeluTanh: 0.5 (1 + t) + 0.5 v (1 - t^2) k (1 + 3 c v^2), t = tanh(k (v + c v^3)).
template <typename C>
EMBER_HOST_DEVICE C gelu_tanh_grad(C v) {
  const C k = C(kSqrt2OverPi), c = C(kGeluC);
  const C t = std::tanh(k * (v + c * v * v * v));
  return C(0.5) * (C(1) + t) + C(0.5) * v * (C(1) - t * t) * k * (C(1) + C(3) * c * v * v);
}

// Division and power: integers get integer_math.h's defined results, floating types IEEE's.
template <typename C>
EMBER_HOST_DEVICE C divide(C x, C y) {
  if constexpr (std::is_integral_v<C>) return integer_math::div(x, y);
  else return x / y;
}
template <typename C>
EMBER_HOST_DEVICE C power(C x, C y) {
  if constexpr (std::is_integral_v<C>) return integer_math::pow(x, y);
  else return static_cast<C>(std::pow(x, y));
}

template <typename>
inline constexpr bool kNoFormula = false;

template <UnaryOp Op, typename C>
EMBER_HOST_DEVICE C unary_formula(C v, [[maybe_unused]] C a, [[maybe_unused]] C b) {
#define EMBER_UNARY_FORMULA(name, formula) if constexpr (Op == UnaryOp::name) return formula; else
  EMBER_UNARY_OPS(EMBER_UNARY_FORMULA)
#undef EMBER_UNARY_FORMULA
  static_assert(kNoFormula<C>, "unary_formula: an op without a formula");
}

// bool for the comparisons; for the arithmetic ops the expression's own type, which the kernel
// narrows to the tensor's dtype (bool + bool is an int there, as in C++).
template <BinaryOp Op, typename C>
EMBER_HOST_DEVICE auto binary_formula(C x, C y) {
#define EMBER_BINARY_FORMULA(name, formula) if constexpr (Op == BinaryOp::name) return formula; else
  EMBER_BINARY_OPS(EMBER_BINARY_FORMULA)
#undef EMBER_BINARY_FORMULA
  static_assert(kNoFormula<C>, "binary_formula: an op without a formula");
}

}  // namespace ember::formulas
