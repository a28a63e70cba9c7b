// Binary elementwise kernels (arithmetic and comparisons) and where(). The formulas are
// elementwise_formulas.h's (shared with the CUDA kernels).
#include <type_traits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/map.h"
#include "backends/elementwise_formulas.h"

namespace ember {

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_all(a.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    // Comparisons write bool, the arithmetic ops T.
    auto run = [&]<BinaryOp Op>() {
      using R = std::conditional_t<is_comparison(Op), bool, T>;
      cpu::map2<T, R>(a, b, out, [](C x, C y) { return formulas::binary_formula<Op>(x, y); });
    };
    switch (op) {
#define EMBER_BINARY_CASE(name, formula) \
  case BinaryOp::name: return run.template operator()<BinaryOp::name>();
      EMBER_BINARY_OPS(EMBER_BINARY_CASE)
#undef EMBER_BINARY_CASE
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
