#pragma once
// The one list of elementwise ops. Each entry is X(Name, formula): the enum entry
// (UnaryOp::Name, BinaryOp::Name in backend.h) and its value as an expression, written once
// and compiled by both backends (elementwise_formulas.h turns it into an EMBER_HOST_DEVICE
// function that the CPU loops and the CUDA kernels call). The CPU and CUDA dispatchers, the
// parity tests and kUnaryOpCount / kBinaryOpCount are generated from these lists, so the order
// carries no meaning: a new op is one line here, one line in autograd and one test row
// (ARCHITECTURE.md, "Add an elementwise op").
//
// In a unary formula, v is the input and a, b the op's two scalar arguments (alpha, beta), all
// in the compute type C (float for f32 and bf16, double for f64); std:: math is allowed (both
// compilers provide it), and vexp / verf are fast_math.h's. In a binary formula, x and y are
// the operands in the compute type (integers and bool too).

#define EMBER_UNARY_OPS(X)                                                                       \
  X(Neg, -v)                                                                                     \
  X(Exp, std::exp(v))                                                                            \
  X(Log, std::log(v))                                                                            \
  X(Log1p, std::log1p(v)) /* log(1 + v), accurate near 0 */                                      \
  X(Expm1, std::expm1(v)) /* exp(v) - 1, accurate near 0 */                                      \
  X(Sqrt, std::sqrt(v))                                                                          \
  X(Rsqrt, C(1) / std::sqrt(v))                                                                  \
  X(Abs, std::abs(v))                                                                            \
  X(Sign, C((v > C(0)) - (v < C(0))))                                                            \
  X(Reciprocal, C(1) / v)                                                                        \
  X(Square, v * v)                                                                               \
  X(Erf, fast_math::verf(v))                                                                     \
  X(Relu, v < C(0) ? C(0) : v) /* NaN stays NaN, as in PyTorch */                                \
  X(Sigmoid, C(1) / (C(1) + std::exp(-v)))                                                       \
  X(Tanh, std::tanh(v))                                                                          \
  X(Sin, std::sin(v))                                                                            \
  X(Cos, std::cos(v))                                                                            \
  X(GeluErf, C(0.5) * v * (C(1) + fast_math::verf(v * C(kSqrtHalf))))                            \
  X(GeluTanh, C(0.5) * v * (C(1) + std::tanh(C(kSqrt2OverPi) * (v + C(kGeluC) * v * v * v))))    \
  X(Silu, v / (C(1) + std::exp(-v)))                                                             \
  /* log(1 + e^v), stable for large |v| */                                                       \
  X(Softplus, std::max(v, C(0)) + std::log1p(std::exp(-std::abs(v))))                            \
  X(Affine, a * v + b)                                                                           \
  X(PowScalar, std::pow(v, a))                                                                   \
  X(Clamp, std::min(std::max(v, a), b))                                                          \
  X(LeakyRelu, v > C(0) ? v : a * v)                                                             \
  /* The derivatives of GeluErf and GeluTanh at v, for their backward (one pass instead of a */ \
  /* chain of elementwise ops): Phi(v) + v phi(v), and the derivative of the tanh form. */       \
  X(GeluErfGrad, C(0.5) * (C(1) + fast_math::verf(v * C(kSqrtHalf))) +                          \
                     v * fast_math::vexp(C(-0.5) * v * v) * C(kInvSqrt2Pi))                      \
  X(GeluTanhGrad, gelu_tanh_grad(v))

#define EMBER_BINARY_OPS(X)                                                                      \
  X(Add, x + y)                                                                                  \
  X(Sub, x - y)                                                                                  \
  X(Mul, x * y)                                                                                  \
  X(Div, divide(x, y)) /* integers: integer_math.h's defined x / 0 and INT64_MIN / -1 */         \
  X(Pow, power(x, y))                                                                            \
  X(Maximum, (x > y || x != x) ? x : y) /* NaN wins */                                           \
  X(Minimum, (x < y || x != x) ? x : y)                                                          \
  /* The comparisons produce bool (is_comparison in backend.h). */                             \
  X(Eq, x == y)                                                                                  \
  X(Ne, x != y)                                                                                  \
  X(Lt, x < y)                                                                                   \
  X(Le, x <= y)                                                                                  \
  X(Gt, x > y)                                                                                   \
  X(Ge, x >= y)
