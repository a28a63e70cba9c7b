#include "autograd/unary.h"

#include <cmath>
#include <functional>
#include <numbers>

#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/reduce.h"
#include "tensor/creation.h"

namespace ember {
namespace {

Tensor scalar_like(const Tensor& x, double v) { return scalar(v, {.dtype = x.dtype(), .device = x.device()}); }

// sign(x) has a zero gradient, so the backward formulas below call the kernel directly.
Tensor signum(const Tensor& x) { return dispatch::unary(UnaryOp::Sign, "sign", x); }

// g where the mask is true, 0 elsewhere (one pass, no float copy of the mask).
Tensor keep_where(const Tensor& mask, const Tensor& g) { return where(mask, g, scalar_like(g, 0)); }

// Whether the backward derivative needs the op's input or its output (for exp, sigmoid,
// tanh, ... the output is the cheaper one, and often kept alive by the next op anyway).
enum class Keep { Input, Output };
using UnaryGrad = std::function<Tensor(const Tensor& g, const Tensor& saved)>;

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, Keep keep, UnaryGrad grad, double alpha = 0,
                double beta = 0) {
  Tensor out = dispatch::unary(op, name, x, alpha, beta);
  return record(name, out, {x},
                [saved = Saved(keep == Keep::Input ? x : out, name), grad = std::move(grad)](const Tensor& g) {
                  return std::vector<Tensor>{grad(g, saved.get())};
                });
}

// Validates where()'s operands and broadcasts them to a common shape; `op` names the caller.
Tensor where_forward(const char* op, const Tensor& cond, const Tensor& a, const Tensor& b) {
  check(cond.dtype() == DType::Bool, op, ": the condition must be bool, got ", cond.dtype(), " of shape ",
        cond.shape());
  dispatch::check_same(op, a, b);
  check(cond.device() == a.device(), op, ": the condition is on ", cond.device(), " and the values on ", a.device());
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), op), b.shape(), op);
  Tensor out = dispatch::empty_like(a, shape);
  backend_for(a.device())
      .where(broadcast_view(cond, shape, op), broadcast_view(a, shape, op), broadcast_view(b, shape, op), out);
  return out;
}

// The gradient of a binary op: only for inputs that require one, summed back to their shape.
// `local` maps the upstream gradient to the input's gradient at the broadcast shape.
Tensor input_grad(bool needed, const Shape& shape, const std::function<Tensor()>& local) {
  return needed ? sum_to(local(), shape) : Tensor();
}

// maximum/minimum: a's share of the gradient is 1, 0.5 on ties and 0 otherwise, that is
// 0.5 + 0.5 sign(a - b) for maximum (the sign flips for minimum).
Tensor extremum(BinaryOp op, const char* name, const Tensor& a_in, const Tensor& b_in, double direction) {
  const auto [a, b] = promote(a_in, b_in);
  Tensor out = dispatch::binary(op, name, a, b);
  return record(name, out, {a, b},
                [a = Saved(a, name), b = Saved(b, name), need_a = a.requires_grad(), need_b = b.requires_grad(),
                 direction](const Tensor& g) {
                  Tensor av = a.get(), bv = b.get();
                  Tensor g_a = g * affine(signum(av - bv), 0.5 * direction, 0.5);
                  return std::vector<Tensor>{input_grad(need_a, av.shape(), [&] { return g_a; }),
                                             input_grad(need_b, bv.shape(), [&] { return g - g_a; })};
                });
}

}  // namespace

Tensor exp(const Tensor& x) {
  return unary_op("exp", UnaryOp::Exp, x, Keep::Output, [](const Tensor& g, const Tensor& y) { return g * y; });
}

Tensor log(const Tensor& x) {
  return unary_op("log", UnaryOp::Log, x, Keep::Input, [](const Tensor& g, const Tensor& v) { return g / v; });
}

Tensor log1p(const Tensor& x) {  // d/dx log(1 + x) = 1 / (1 + x)
  return unary_op("log1p", UnaryOp::Log1p, x, Keep::Input, [](const Tensor& g, const Tensor& v) { return g / (v + 1.0); });
}

Tensor expm1(const Tensor& x) {  // d/dx (e^x - 1) = e^x = y + 1
  return unary_op("expm1", UnaryOp::Expm1, x, Keep::Output,
                  [](const Tensor& g, const Tensor& y) { return g * (y + 1.0); });
}

Tensor sqrt(const Tensor& x) {
  return unary_op("sqrt", UnaryOp::Sqrt, x, Keep::Output, [](const Tensor& g, const Tensor& y) { return g / y * 0.5; });
}

Tensor rsqrt(const Tensor& x) {  // d/dx x^-1/2 = -0.5 y^3
  return unary_op("rsqrt", UnaryOp::Rsqrt, x, Keep::Output,
                  [](const Tensor& g, const Tensor& y) { return g * pow(y, 3.0) * -0.5; });
}

Tensor abs(const Tensor& x) {
  return unary_op("abs", UnaryOp::Abs, x, Keep::Input, [](const Tensor& g, const Tensor& v) { return g * signum(v); });
}

Tensor sin(const Tensor& x) {
  return unary_op("sin", UnaryOp::Sin, x, Keep::Input, [](const Tensor& g, const Tensor& v) { return g * cos(v); });
}

Tensor cos(const Tensor& x) {
  return unary_op("cos", UnaryOp::Cos, x, Keep::Input,
                  [](const Tensor& g, const Tensor& v) { return g * sin(v) * -1.0; });
}

Tensor erf(const Tensor& x) {  // d/dx erf(x) = 2/sqrt(pi) exp(-x^2)
  return unary_op("erf", UnaryOp::Erf, x, Keep::Input, [](const Tensor& g, const Tensor& v) {
    return g * exp(v * v * -1.0) * (2 * std::numbers::inv_sqrtpi);
  });
}

Tensor pow(const Tensor& x, double exponent) {
  return unary_op(
      "pow", UnaryOp::PowScalar, x, Keep::Input,
      [exponent](const Tensor& g, const Tensor& v) {
        if (exponent == 0) return zeros(v.shape(), {.dtype = v.dtype(), .device = v.device()});
        Tensor power = exponent == 2 ? v : pow(v, exponent - 1);
        return g * power * exponent;
      },
      exponent);
}

Tensor pow(const Tensor& base_in, const Tensor& exponent_in) {
  const auto [base, exponent] = promote(base_in, exponent_in);
  Tensor out = dispatch::binary(BinaryOp::Pow, "pow", base, exponent);
  // As PyTorch: d/da is 0 where b == 0 (not 0 * a^-1), d/db is 0 where a == 0 (not y log 0).
  return record(
      "pow", out, {base, exponent},
      [a = Saved(base, "pow"), b = Saved(exponent, "pow"), y = Saved(exponent.requires_grad() ? out : Tensor(), "pow"),
       need_a = base.requires_grad(), need_b = exponent.requires_grad()](const Tensor& g) {
        Tensor av = a.get(), bv = b.get();
        Tensor zero = scalar_like(g, 0);
        return std::vector<Tensor>{
            input_grad(need_a, av.shape(), [&] { return g * where(eq(bv, zero), zero, bv * pow(av, bv - 1.0)); }),
            input_grad(need_b, bv.shape(), [&] { return g * where(eq(av, zero), zero, y.get() * log(av)); })};
      });
}

Tensor tanh(const Tensor& x) {
  return unary_op("tanh", UnaryOp::Tanh, x, Keep::Output,
                  [](const Tensor& g, const Tensor& y) { return g * affine(y * y, -1.0, 1.0); });
}

Tensor sigmoid(const Tensor& x) {
  return unary_op("sigmoid", UnaryOp::Sigmoid, x, Keep::Output,
                  [](const Tensor& g, const Tensor& y) { return g * y * affine(y, -1.0, 1.0); });
}

Tensor relu(const Tensor& x) {  // y > 0 exactly where x > 0
  return unary_op("relu", UnaryOp::Relu, x, Keep::Output,
                  [](const Tensor& g, const Tensor& y) { return keep_where(gt(y, scalar_like(y, 0)), g); });
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return unary_op(
      "leaky_relu", UnaryOp::LeakyRelu, x, Keep::Input,
      [negative_slope](const Tensor& g, const Tensor& v) {
        return where(gt(v, scalar_like(v, 0)), g, g * negative_slope);
      },
      negative_slope);
}

// The derivative is one fused kernel (the backward is never differentiated again: it runs
// without recording).
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  const UnaryOp op = tanh_approximation ? UnaryOp::GeluTanh : UnaryOp::GeluErf;
  const UnaryOp derivative = tanh_approximation ? UnaryOp::GeluTanhGrad : UnaryOp::GeluErfGrad;
  return unary_op("gelu", op, x, Keep::Input, [derivative](const Tensor& g, const Tensor& v) {
    return g * dispatch::unary(derivative, "gelu", v);
  });
}

Tensor silu(const Tensor& x) {  // d/dx x s(x) = s (1 + x (1 - s))
  return unary_op("silu", UnaryOp::Silu, x, Keep::Input, [](const Tensor& g, const Tensor& v) {
    Tensor s = sigmoid(v);
    return g * s * affine(v * affine(s, -1.0, 1.0), 1.0, 1.0);
  });
}

Tensor softplus(const Tensor& x) {
  return unary_op("softplus", UnaryOp::Softplus, x, Keep::Input,
                  [](const Tensor& g, const Tensor& v) { return g * sigmoid(v); });
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  check(beta > 0, "softplus: beta ", beta, " must be positive (x of shape ", x.shape(), ")");
  Tensor bx = x * beta;
  Tensor smooth = beta == 1 ? softplus(bx) : softplus(bx) / beta;
  // Past the threshold the smooth branch is still finite, so where() passes it a zero gradient.
  return where(gt(bx, scalar_like(bx, threshold)), x, smooth);
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  check(!(lo > hi), "clamp: lo ", lo, " is above hi ", hi, " for a tensor of shape ", x.shape());
  return unary_op(
      "clamp", UnaryOp::Clamp, x, Keep::Input,
      [lo, hi](const Tensor& g, const Tensor& v) {
        return keep_where(ge(v, scalar_like(v, lo)), keep_where(le(v, scalar_like(v, hi)), g));
      },
      lo, hi);
}

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(BinaryOp::Maximum, "maximum", a, b, 1.0); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(BinaryOp::Minimum, "minimum", a, b, -1.0); }

Tensor where(const Tensor& cond, const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b] = promote(a_in, b_in);
  Tensor out = where_forward("where", cond, a, b);
  return record("where", out, {a, b},
                [cond = Saved(cond, "where"), sa = a.shape(), sb = b.shape(), need_a = a.requires_grad(),
                 need_b = b.requires_grad()](const Tensor& g) {
                  Tensor c = cond.get(), zero = scalar_like(g, 0);
                  return std::vector<Tensor>{input_grad(need_a, sa, [&] { return where(c, g, zero); }),
                                             input_grad(need_b, sb, [&] { return where(c, zero, g); })};
                });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  if (broadcast_shapes(mask.shape(), x.shape(), "masked_fill") != x.shape())
    fail("masked_fill: a mask of shape ", mask.shape(), " does not broadcast to the input's shape ", x.shape());
  Tensor out = where_forward("masked_fill", mask, scalar_like(x, value), x);
  return record("masked_fill", out, {x}, [mask = Saved(mask, "masked_fill")](const Tensor& g) {
    return std::vector<Tensor>{where(mask.get(), scalar_like(g, 0), g)};
  });
}

}  // namespace ember
