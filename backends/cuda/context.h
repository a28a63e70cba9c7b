#pragma once
// The backend's shared state: one device (cuda:0), one stream on which every kernel, copy,
// allocation and cuBLAS call is queued in order, so the host waits only where it reads data.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <initializer_list>

#include "tensor/tensor.h"

namespace ember::cuda {

// Created on first use; throws when no device is usable.
cudaStream_t stream();
cublasHandle_t cublas();
// Blocks for a grid-stride loop over n items with `threads` threads per block: enough to fill
// the device, never more than the items need.
unsigned grid_for(int64_t n, int threads);
// The device's number of streaming multiprocessors.
int multiprocessors();
// The device's compute capability, major * 10 + minor (90 for the H100 and H200).
int compute_capability();
// Throws naming `op` unless `device` is the one this backend drives.
void check_device(Device device, const char* op);
// Throws naming `op` unless every defined tensor lives on that device: a kernel handed a host
// pointer would fault instead of reporting the mistake.
void check_on_device(const char* op, std::initializer_list<const Tensor*> tensors);

}  // namespace ember::cuda
