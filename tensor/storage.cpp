#include "tensor/storage.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tensor/error.h"

namespace ember {
namespace {

// Host memory: 64-byte aligned (a cache line, one AVX-512 vector). glibc is asked to keep
// large freed blocks instead of returning them to the kernel, so a training loop that
// allocates the same sizes every step does not page-fault fresh memory each time.
class CpuAllocator final : public DeviceAllocator {
 public:
  CpuAllocator() {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
  void* allocate(size_t nbytes) override {
    size_t rounded = (std::max<size_t>(nbytes, 1) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) fail("cpu allocator: out of memory allocating ", nbytes, " bytes");
    const size_t now = in_use_ += rounded;
    size_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    return p;
  }
  void deallocate(void* ptr, size_t nbytes) override {
    std::free(ptr);
    in_use_ -= (std::max<size_t>(nbytes, 1) + 63) / 64 * 64;
  }
  void copy(void* dst, Device, const void* src, Device, size_t nbytes) override {
    if (nbytes) std::memcpy(dst, src, nbytes);
  }
  void fill(void* dst, size_t count, size_t element_size, const void* element) override {
    auto* out = static_cast<unsigned char*>(dst);
    for (size_t i = 0; i < count; ++i) std::memcpy(out + i * element_size, element, element_size);
  }
  size_t bytes_in_use() const override { return in_use_; }
  size_t peak_bytes_in_use() const override { return peak_; }
  void reset_peak() override { peak_ = in_use_.load(); }

 private:
  std::atomic<size_t> in_use_{0}, peak_{0};
};

DeviceAllocator* registry[2] = {nullptr, nullptr};

}  // namespace

void register_allocator(DeviceType type, DeviceAllocator* allocator) {
  registry[static_cast<int>(type)] = allocator;
}

DeviceAllocator& allocator_for(Device device) {
  if (device.is_cpu()) {
    static CpuAllocator cpu;
    return cpu;
  }
  initialize_devices();
  DeviceAllocator* a = registry[static_cast<int>(device.type)];
  if (!a) fail("device ", device, ": this build has no backend for it (was ember built with CUDA?)");
  return *a;
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  Device owner = dst_device.is_cpu() ? src_device : dst_device;
  allocator_for(owner).copy(dst, dst_device, src, src_device, nbytes);
}

size_t memory_in_use(Device device) { return allocator_for(device).bytes_in_use(); }
size_t peak_memory(Device device) { return allocator_for(device).peak_bytes_in_use(); }
void reset_peak_memory(Device device) { allocator_for(device).reset_peak(); }

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = allocator_for(device).allocate(nbytes);
}

Storage::~Storage() { allocator_for(device_).deallocate(data_, nbytes_); }

}  // namespace ember
