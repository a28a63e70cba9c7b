#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"

namespace ember {
namespace {
Backend* registry[2] = {nullptr, nullptr};
}

void register_backend(DeviceType type, Backend* backend) { registry[static_cast<int>(type)] = backend; }

Backend& backend_for(Device device) {
  if (device.is_cpu()) {
    static CpuBackend cpu;
    return cpu;
  }
  Backend* b = registry[static_cast<int>(device.type)];
  if (!b) fail("device ", device, ": this build has no backend for it (was ember built with CUDA?)");
  return *b;
}

}  // namespace ember
