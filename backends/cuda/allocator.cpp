// Device memory from CUDA's stream-ordered pool (cudaMallocAsync on the backend's one stream):
// a freed block is reused by the next allocation queued after the free without waiting for the
// device, and the pool keeps what it has (context.cpp sets its release threshold), so steady
// training steps allocate no new memory. Copies are queued on the same stream; only a copy into
// host memory waits, because the host reads it next.
#include <atomic>
#include <cstdio>
#include <exception>

#include "backends/cuda/check.h"
#include "backends/cuda/context.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_device.h"

namespace ember::cuda {
namespace {

class CudaAllocator final : public DeviceAllocator {
 public:
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    void* p = nullptr;
    CUDA_CHECK(cudaMallocAsync(&p, nbytes, stream()));
    const size_t now = in_use_ += nbytes;
    size_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    return p;
  }

  // Called from ~Storage, which cannot throw: a failure here ends the program with a message.
  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    const cudaError_t status = cudaFreeAsync(ptr, stream());
    in_use_ -= nbytes;
    if (status == cudaSuccess || status == cudaErrorCudartUnloading) return;  // the latter: at exit
    std::fprintf(stderr, "ember: cudaFreeAsync failed: %s\n", cudaGetErrorString(status));
    std::terminate();
  }

  void copy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) override {
    check_device(dst_device, "copy");
    check_device(src_device, "copy");
    if (nbytes == 0) return;
    const cudaMemcpyKind kind = dst_device.is_cpu() ? cudaMemcpyDeviceToHost
                                : src_device.is_cpu() ? cudaMemcpyHostToDevice
                                                      : cudaMemcpyDeviceToDevice;
    // From pageable host memory the call returns once the source has been staged, so the
    // caller may free it at once.
    CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, kind, stream()));
    if (kind == cudaMemcpyDeviceToHost) CUDA_CHECK(cudaStreamSynchronize(stream()));
  }

  void fill(void* dst, size_t count, size_t element_size, const void* element) override {
    fill_elements(dst, count, element_size, element);
  }

  size_t bytes_in_use() const override { return in_use_; }
  size_t peak_bytes_in_use() const override { return peak_; }
  void reset_peak() override { peak_ = in_use_.load(); }

 private:
  std::atomic<size_t> in_use_{0}, peak_{0};
};

CudaAllocator& cuda_allocator() {
  static CudaAllocator* a = new CudaAllocator;  // never destroyed, like the context
  return *a;
}

}  // namespace

DeviceAllocator& allocator() { return cuda_allocator(); }

}  // namespace ember::cuda

namespace ember {

size_t cuda_peak_bytes_in_use() { return cuda::cuda_allocator().peak_bytes_in_use(); }
void reset_cuda_peak_bytes_in_use() { cuda::cuda_allocator().reset_peak(); }

}  // namespace ember
