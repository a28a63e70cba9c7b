#pragma once
// Queries and switches for CUDA devices that need no tensor and exist in every build: a build
// without the CUDA backend simply has no devices, so tests can ask and skip.
#include <cstddef>

namespace ember {

#ifdef EMBER_HAVE_CUDA
// Whether a CUDA device is present and usable (false where no driver or GPU is found).
bool cuda_available();
int cuda_device_count();
// Waits until every queued operation of the backend's stream has finished.
void cuda_synchronize();
// f32 matmuls on the tensor cores in TF32 (10-bit mantissa inputs, f32 accumulation). Off by
// default, so that f32 means f32.
void set_cuda_tf32(bool on);
bool cuda_tf32();
// The most bytes of live CUDA tensors at once (the allocator's bytes_in_use) since the last
// reset, which sets it to the bytes in use now: a step's peak memory, as PyTorch's
// max_memory_allocated / reset_peak_memory_stats.
size_t cuda_peak_bytes_in_use();
void reset_cuda_peak_bytes_in_use();
#else
inline bool cuda_available() { return false; }
inline int cuda_device_count() { return 0; }
inline void cuda_synchronize() {}
inline void set_cuda_tf32(bool) {}
inline bool cuda_tf32() { return false; }
inline size_t cuda_peak_bytes_in_use() { return 0; }
inline void reset_cuda_peak_bytes_in_use() {}
#endif

}  // namespace ember
