// Hands the CUDA backend and allocator to the registries. initialize_devices()
// (backends/registry.cpp) calls register_cuda_backend() on the first use of a CUDA device, so
// every program that links ember with CUDA has the backend, however it is linked. Registering
// creates no CUDA state: that waits for the first CUDA tensor.
#include "backends/cuda/cuda_backend.h"

namespace ember::cuda {

void register_cuda_backend() {
  register_allocator(DeviceType::CUDA, &allocator());
  register_backend(DeviceType::CUDA, &backend());
}

Backend& backend() {
  static CudaBackend* b = new CudaBackend;  // never destroyed, like the allocator
  return *b;
}

}  // namespace ember::cuda
