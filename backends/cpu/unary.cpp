// Unary elementwise kernels: math and activations. The formulas are elementwise_formulas.h's
// (shared with the CUDA kernels); here each op becomes one strided loop.
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/map.h"
#include "backends/elementwise_formulas.h"

namespace ember {

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) {
  dispatch_floating(x.dtype(), "unary", [&]<typename T>() {
    using C = compute_t<T>;
    const C a = static_cast<C>(alpha), b = static_cast<C>(beta);
    switch (op) {
#define EMBER_UNARY_CASE(name, formula)                                                                 \
  case UnaryOp::name:                                                                                   \
    return cpu::map1<T>(x, out, [a, b](C v) { return formulas::unary_formula<UnaryOp::name>(v, a, b); });
      EMBER_UNARY_OPS(EMBER_UNARY_CASE)
#undef EMBER_UNARY_CASE
    }
  });
}

}  // namespace ember
