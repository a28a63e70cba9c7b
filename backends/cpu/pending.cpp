// TEMPORARY: kernels being written right now; each helper removes its entries from this file.
#include "backends/cpu/cpu_backend.h"

namespace ember {

void CpuBackend::matmul(const Tensor&, const Tensor&, const Tensor&) { fail("matmul: not implemented yet"); }
void CpuBackend::softmax(const Tensor&, const Tensor&, bool) { fail("softmax: not implemented yet"); }
void CpuBackend::softmax_backward(const Tensor&, const Tensor&, const Tensor&, bool) { fail("softmax: not implemented yet"); }
void CpuBackend::layer_norm(const Tensor&, const Tensor&, const Tensor&, double, const Tensor&, const Tensor&, const Tensor&) {
  fail("layer_norm: not implemented yet");
}
void CpuBackend::layer_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                     const Tensor&, const Tensor&, const Tensor&) {
  fail("layer_norm: not implemented yet");
}
void CpuBackend::cross_entropy(const Tensor&, const Tensor&, int64_t, double, const Tensor&, const Tensor&) {
  fail("cross_entropy: not implemented yet");
}
void CpuBackend::cross_entropy_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t, double,
                                        const Tensor&) {
  fail("cross_entropy: not implemented yet");
}
void CpuBackend::index_select(const Tensor&, int, const Tensor&, const Tensor&) { fail("index_select: not implemented yet"); }
void CpuBackend::index_add(const Tensor&, int, const Tensor&, const Tensor&) { fail("index_add: not implemented yet"); }
void CpuBackend::gather(const Tensor&, int, const Tensor&, const Tensor&) { fail("gather: not implemented yet"); }
void CpuBackend::scatter_add(const Tensor&, int, const Tensor&, const Tensor&) { fail("scatter_add: not implemented yet"); }
void CpuBackend::sgd_step(const Tensor&, const Tensor&, const Tensor&, const SgdStep&) { fail("sgd_step: not implemented yet"); }
void CpuBackend::adam_step(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const AdamStep&) {
  fail("adam_step: not implemented yet");
}

}  // namespace ember
