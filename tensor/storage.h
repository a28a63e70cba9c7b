#pragma once
// Storage: one allocation on one device, shared by a tensor and all its views.
// It also carries the version counter that autograd uses to detect in-place changes
// of tensors saved for backward (views share it, as they share the bytes).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tensor/device.h"

namespace ember {

// Each device type supplies one of these; the CPU one is built in, backends register others.
struct DeviceAllocator {
  virtual ~DeviceAllocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  // Copies between this device and the host, or within this device.
  virtual void copy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) = 0;
  // Sets `count` elements of `element_size` bytes (1, 2, 4 or 8) at dst to the bytes at
  // `element`, on the device itself: creating a constant tensor copies nothing from the host.
  virtual void fill(void* dst, size_t count, size_t element_size, const void* element) = 0;
  // Bytes currently allocated through this allocator.
  virtual size_t bytes_in_use() const = 0;
  // The most bytes in use at once since the last reset_peak(), which sets it to the bytes in
  // use now.
  virtual size_t peak_bytes_in_use() const = 0;
  virtual void reset_peak() = 0;
};

void register_allocator(DeviceType type, DeviceAllocator* allocator);
// The allocator of a device. The first request for a device other than the CPU calls
// initialize_devices() first.
DeviceAllocator& allocator_for(Device device);
// Registers the allocator and backend of every device this build has (CUDA where built with
// it), once; defined by the backend layer (backends/registry.cpp), which is the one place that
// knows the devices. A direct call rather than static initialisers: a program linked any way
// gets its devices, and no CUDA state is created before a CUDA tensor is.
void initialize_devices();
// Copies bytes between any two devices (one of them must be the host or both the same device).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

// Memory of live tensors on a device, as its allocator counts it (the CPU allocator rounds each
// allocation up to 64 bytes): in use now, the most in use at once since the last reset (a
// step's peak, as PyTorch's max_memory_allocated), and the reset, which sets the peak to the
// bytes in use now. Thread-safe.
size_t memory_in_use(Device device);
size_t peak_memory(Device device);
void reset_peak_memory(Device device);

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  uint64_t version_ = 0;
};

}  // namespace ember
