#pragma once
// Every CUDA runtime call and kernel launch goes through these: a failure throws ember::Error
// naming the call, where it was made, and CUDA's description of the error.
#include <cuda_runtime_api.h>

#include "tensor/error.h"

namespace ember::cuda {

inline void check_status(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) fail("CUDA error at ", file, ":", line, ": ", cudaGetErrorString(status), " (", call, ")");
}

}  // namespace ember::cuda

#define CUDA_CHECK(call) ::ember::cuda::check_status((call), #call, __FILE__, __LINE__)
// After a <<<...>>> launch: reports a bad configuration at once (errors of the running kernel
// surface at a later call on the stream).
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
