#include "backends/cuda/context.h"

#include <algorithm>
#include <atomic>

#include "backends/cuda/check.h"
#include "backends/cuda/cuda_device.h"

namespace ember {
namespace cuda {
namespace {

struct Context {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  int sm_count = 0;
  int capability = 0;  // major * 10 + minor

  Context() {
    check(cuda_available(), "cuda: no usable CUDA device (", cuda_device_count(), " found)");
    CUDA_CHECK(cudaSetDevice(0));
    CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, 0));
    int major = 0, minor = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
    CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0));
    capability = major * 10 + minor;
    // Freed blocks stay in the stream-ordered pool instead of going back to the driver at every
    // synchronisation, so a training step that allocates the same sizes each time reuses them.
    cudaMemPool_t pool;
    CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, 0));
    uint64_t keep_all = UINT64_MAX;
    CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    cublasStatus_t status = cublasCreate(&cublas);
    check(status == CUBLAS_STATUS_SUCCESS, "cuda: cublasCreate failed: ", cublasGetStatusString(status));
    status = cublasSetStream(cublas, stream);
    check(status == CUBLAS_STATUS_SUCCESS, "cuda: cublasSetStream failed: ", cublasGetStatusString(status));
  }
};

// Never destroyed: tensors held by static objects are freed after static destructors ran.
Context& context() {
  static Context* c = new Context;
  return *c;
}

std::atomic<bool> tf32_enabled{false};

}  // namespace

cudaStream_t stream() { return context().stream; }
cublasHandle_t cublas() { return context().cublas; }

unsigned grid_for(int64_t n, int threads) {
  const int64_t needed = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(needed, 1, int64_t{context().sm_count} * 32));
}

int multiprocessors() { return context().sm_count; }
int compute_capability() { return context().capability; }

void check_device(Device device, const char* op) {
  check(!device.is_cuda() || device.index == 0, op, ": device ", device,
        " is not supported yet; the CUDA backend drives cuda:0 only");
}

void check_on_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    check(t->device().is_cuda(), op, ": operand of shape ", t->shape(), " is on ", t->device(),
          ", expected a CUDA tensor");
    check_device(t->device(), op);
  }
}

}  // namespace cuda

int cuda_device_count() {
  static const int count = [] {
    int n = 0;
    // No driver or no GPU is an answer here, not an error: clear it so that no later launch
    // check reports it.
    if (cudaGetDeviceCount(&n) == cudaSuccess) return n;
    (void)cudaGetLastError();
    return 0;
  }();
  return count;
}

bool cuda_available() { return cuda_device_count() > 0; }

void cuda_synchronize() {
  if (cuda_available()) CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
}

void set_cuda_tf32(bool on) { cuda::tf32_enabled = on; }
bool cuda_tf32() { return cuda::tf32_enabled; }

}  // namespace ember
