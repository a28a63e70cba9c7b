// Binary elementwise kernels (arithmetic and comparisons) and where().
#include <cmath>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/map.h"
#include "backends/integer_math.h"

namespace ember {

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_all(a.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    auto arith = [&](auto f) { cpu::map2<T>(a, b, out, f); };
    auto compare = [&](auto f) { cpu::map2<T, bool>(a, b, out, f); };
    switch (op) {
      case BinaryOp::Add: return arith([](C x, C y) { return x + y; });
      case BinaryOp::Sub: return arith([](C x, C y) { return x - y; });
      case BinaryOp::Mul: return arith([](C x, C y) { return x * y; });
      case BinaryOp::Div:
        if constexpr (std::is_integral_v<C>) return arith([](C x, C y) { return integer_math::div(x, y); });
        else return arith([](C x, C y) { return x / y; });
      case BinaryOp::Pow:
        if constexpr (std::is_integral_v<C>) return arith([](C x, C y) { return integer_math::pow(x, y); });
        else return arith([](C x, C y) { return static_cast<C>(std::pow(x, y)); });
      case BinaryOp::Maximum: return arith([](C x, C y) { return (x > y || x != x) ? x : y; });  // NaN wins
      case BinaryOp::Minimum: return arith([](C x, C y) { return (x < y || x != x) ? x : y; });
      case BinaryOp::Eq: return compare([](C x, C y) { return x == y; });
      case BinaryOp::Ne: return compare([](C x, C y) { return x != y; });
      case BinaryOp::Lt: return compare([](C x, C y) { return x < y; });
      case BinaryOp::Le: return compare([](C x, C y) { return x <= y; });
      case BinaryOp::Gt: return compare([](C x, C y) { return x > y; });
      case BinaryOp::Ge: return compare([](C x, C y) { return x >= y; });
    }
  });
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_all(a.dtype(), [&]<typename T>() {
    std::array<const Strides*, 4> st{&out.strides(), &cond.strides(), &a.strides(), &b.strides()};
    std::array<char*, 4> base{static_cast<char*>(out.data_ptr()), static_cast<char*>(cond.data_ptr()),
                              static_cast<char*>(a.data_ptr()), static_cast<char*>(b.data_ptr())};
    cpu::for_each_run<4>(out.shape(), st, base, {cpu::esz<T>, 1, cpu::esz<T>, cpu::esz<T>},
                         [](int64_t n, std::array<char*, 4> p, std::array<int64_t, 4> s) {
      T* o = reinterpret_cast<T*>(p[0]);
      const bool* c = reinterpret_cast<const bool*>(p[1]);
      const T* x = reinterpret_cast<const T*>(p[2]);
      const T* y = reinterpret_cast<const T*>(p[3]);
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = c[i * s[1]] ? x[i * s[2]] : y[i * s[3]];
    });
  });
}

}  // namespace ember
