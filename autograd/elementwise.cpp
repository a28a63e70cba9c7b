#include "autograd/elementwise.h"

#include "autograd/autocast.h"
#include "autograd/flops.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember {
namespace {

Tensor scalar_like(const Tensor& x, double v) { return scalar(v, {.dtype = x.dtype(), .device = x.device()}); }

Tensor compare(BinaryOp op, const char* name, const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b] = promote(a_in, b_in);
  return dispatch::binary(op, name, a, b);
}

// Integer division by zero is an error (PyTorch raises ZeroDivisionError), checked on the host
// before any kernel runs, whatever the device: the kernels' x / 0 = 0 is only a guard.
void check_integer_divisor(const Tensor& b) {
  if (is_floating(b.dtype()) || b.numel() == 0) return;
  const Tensor host = dispatch::contiguous(b.device().is_cpu() ? b : to(detach(b), Device::cpu()), b.dtype());
  dispatch_all(b.dtype(), [&]<typename T>() {
    if constexpr (std::is_integral_v<T>) {
      const T* p = host.data<T>();
      for (int64_t i = 0, n = host.numel(); i < n; ++i)
        if (p[i] == T(0)) fail("div: integer division by zero (divisor ", b.dtype(), " ", b.shape(), ")");
    }
  });
}

}  // namespace

Tensor add(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b] = promote(a_in, b_in);
  Tensor out = dispatch::binary(BinaryOp::Add, "add", a, b);
  return record("add", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  });
}

Tensor sub(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b] = promote(a_in, b_in);
  Tensor out = dispatch::binary(BinaryOp::Sub, "sub", a, b);
  return record("sub", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
  });
}

Tensor mul(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b] = promote(a_in, b_in);
  Tensor out = dispatch::binary(BinaryOp::Mul, "mul", a, b);
  return record("mul", out, {a, b}, [a = Saved(a, "mul"), b = Saved(b, "mul")](const Tensor& g) {
    Tensor av = a.get(), bv = b.get();
    return std::vector<Tensor>{sum_to(g * bv, av.shape()), sum_to(g * av, bv.shape())};
  });
}

Tensor div(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b] = promote(a_in, b_in);
  check_integer_divisor(b);
  Tensor out = dispatch::binary(BinaryOp::Div, "div", a, b);
  return record("div", out, {a, b}, [a = Saved(a, "div"), b = Saved(b, "div")](const Tensor& g) {
    Tensor av = a.get(), bv = b.get();
    Tensor ga = g / bv;
    return std::vector<Tensor>{sum_to(ga, av.shape()), sum_to(neg(ga * av / bv), bv.shape())};
  });
}

Tensor neg(const Tensor& x) { return affine(x, -1.0, 0.0); }

Tensor affine(const Tensor& x, double alpha, double beta) {
  Tensor out = dispatch::unary(UnaryOp::Affine, "affine", x, alpha, beta);
  return record("affine", out, {x}, [alpha](const Tensor& g) { return std::vector<Tensor>{affine(g, alpha, 0.0)}; });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, double s) { return affine(a, 1.0, s); }
Tensor operator+(double s, const Tensor& a) { return affine(a, 1.0, s); }
Tensor operator-(const Tensor& a, double s) { return affine(a, 1.0, -s); }
Tensor operator-(double s, const Tensor& a) { return affine(a, -1.0, s); }
Tensor operator*(const Tensor& a, double s) { return affine(a, s, 0.0); }
Tensor operator*(double s, const Tensor& a) { return affine(a, s, 0.0); }
Tensor operator/(const Tensor& a, double s) { return affine(a, 1.0 / s, 0.0); }
Tensor operator/(double s, const Tensor& a) { return div(scalar_like(a, s), a); }

Tensor eq(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Eq, "eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ne, "ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Lt, "lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Le, "le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Gt, "gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ge, "ge", a, b); }

namespace {

void check_inplace(const char* op, const Tensor& self) {
  if (grad_enabled() && self.requires_grad())
    fail(op, ": in-place change of a tensor of shape ", self.shape(),
         " that requires grad while recording; wrap it in NoGradGuard or use the out-of-place op");
}

// self = self op other, where other broadcasts to self's shape.
const Tensor& inplace_binary(BinaryOp op, const char* name, const Tensor& self, const Tensor& other) {
  check_inplace(name, self);
  // As PyTorch: a floating operand of another dtype is converted to self's (self's dtype stays).
  const bool convert = is_floating(self.dtype()) && is_floating(other.dtype()) && self.device() == other.device();
  const Tensor operand = convert ? dispatch::contiguous(other, self.dtype()) : other;
  dispatch::check_same(name, self, operand);
  backend_for(self.device()).binary(op, self, broadcast_view(operand, self.shape(), name), self);
  count_flops("elementwise", binary_flops(op) * static_cast<double>(self.numel()));
  self.bump_version();
  return self;
}

}  // namespace

const Tensor& add_(const Tensor& self, const Tensor& other, double alpha) {
  if (alpha == 1.0) return inplace_binary(BinaryOp::Add, "add_", self, other);
  NoGradGuard no_grad;
  return inplace_binary(BinaryOp::Add, "add_", self, other * alpha);
}

const Tensor& mul_(const Tensor& self, const Tensor& other) { return inplace_binary(BinaryOp::Mul, "mul_", self, other); }

const Tensor& mul_(const Tensor& self, double s) {
  check_inplace("mul_", self);
  backend_for(self.device()).unary(UnaryOp::Affine, self, self, s, 0.0);
  count_flops("elementwise", unary_flops(UnaryOp::Affine) * static_cast<double>(self.numel()));
  self.bump_version();
  return self;
}

const Tensor& fill_(const Tensor& self, double value) {
  check_inplace("fill_", self);
  backend_for(self.device()).fill(self, value);
  self.bump_version();
  return self;
}

const Tensor& zero_(const Tensor& self) { return fill_(self, 0.0); }

const Tensor& copy_(const Tensor& self, const Tensor& src) {
  check_inplace("copy_", self);
  check(self.device() == src.device(), "copy_: source on ", src.device(), ", destination on ", self.device(),
        "; move it with to() first");
  backend_for(self.device()).copy(broadcast_view(src, self.shape(), "copy_"), self);
  self.bump_version();
  return self;
}

}  // namespace ember
