// The backend methods with no CUDA kernel yet. Each throws, naming the op, so that a model
// that needs one fails loudly instead of computing something else.
#include "backends/cuda/cuda_backend.h"

namespace ember {
namespace {

[[noreturn]] void not_implemented(const char* op) { fail(op, ": not implemented on CUDA yet"); }

}  // namespace

void CudaBackend::conv2d(const Tensor&, const Tensor&, const Tensor&, const Conv2dParams&, const Tensor&) {
  not_implemented("conv2d");
}
void CudaBackend::conv2d_backward_data(const Tensor&, const Tensor&, const Conv2dParams&, const Tensor&) {
  not_implemented("conv2d_backward_data");
}
void CudaBackend::conv2d_backward_weight(const Tensor&, const Tensor&, const Conv2dParams&, const Tensor&,
                                         const Tensor&) {
  not_implemented("conv2d_backward_weight");
}
void CudaBackend::max_pool2d(const Tensor&, const Pool2dParams&, const Tensor&, const Tensor&) {
  not_implemented("max_pool2d");
}
void CudaBackend::max_pool2d_backward(const Tensor&, const Tensor&, const Tensor&) {
  not_implemented("max_pool2d_backward");
}
void CudaBackend::avg_pool2d(const Tensor&, const Pool2dParams&, const Tensor&) { not_implemented("avg_pool2d"); }
void CudaBackend::avg_pool2d_backward(const Tensor&, const Pool2dParams&, const Tensor&) {
  not_implemented("avg_pool2d_backward");
}
void CudaBackend::attention(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const AttentionParams&,
                            const Tensor&, const Tensor&) {
  not_implemented("attention");
}
void CudaBackend::attention_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                     const Tensor&, const Tensor&, const AttentionParams&, const Tensor&,
                                     const Tensor&, const Tensor&) {
  not_implemented("attention_backward");
}
void CudaBackend::fft_conv(const Tensor&, const Tensor&, const Tensor&, const Tensor&) { not_implemented("fft_conv"); }
void CudaBackend::fft_conv_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                    const Tensor&, const Tensor&) {
  not_implemented("fft_conv_backward");
}

}  // namespace ember
