#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "tensor/storage.h"

namespace ember {
#ifdef EMBER_HAVE_CUDA
namespace cuda {
void register_cuda_backend();  // backends/cuda/register.cpp (declared in cuda_backend.h)
}
#endif

namespace {
Backend* registry[2] = {nullptr, nullptr};
}

void initialize_devices() {
  static const bool done = [] {  // once, thread-safe
#ifdef EMBER_HAVE_CUDA
    cuda::register_cuda_backend();
#endif
    return true;
  }();
  (void)done;
}

void register_backend(DeviceType type, Backend* backend) { registry[static_cast<int>(type)] = backend; }

Backend& backend_for(Device device) {
  if (device.is_cpu()) {
    static CpuBackend cpu;
    return cpu;
  }
  initialize_devices();
  Backend* b = registry[static_cast<int>(device.type)];
  if (!b) fail("device ", device, ": this build has no backend for it (was ember built with CUDA?)");
  return *b;
}

}  // namespace ember
