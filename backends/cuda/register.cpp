// Hands the CUDA backend and allocator to the registries before main(). A static initialiser
// in a static library runs only if its object is linked, and nothing refers to this one, so
// CMakeLists.txt makes every program that links ember ask the linker for the symbol below.
// Registering creates no CUDA state: that waits for the first use of a CUDA tensor.
#include "backends/cuda/cuda_backend.h"

namespace ember::cuda {
namespace {

bool register_cuda_backend() {
  register_allocator(DeviceType::CUDA, &allocator());
  register_backend(DeviceType::CUDA, &backend());
  return true;
}

}  // namespace

Backend& backend() {
  static CudaBackend* b = new CudaBackend;  // never destroyed, like the allocator
  return *b;
}

}  // namespace ember::cuda

extern "C" {
extern const bool ember_cuda_backend_registered;
const bool ember_cuda_backend_registered = ember::cuda::register_cuda_backend();
}
