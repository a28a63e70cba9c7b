#pragma once
// cuFFT for the FFT long convolution (fft_conv.cu): batched, in-place real transforms of rows
// laid out as cuFFT's padded in-place format, each row `fft_row_pitch(n)` reals long (the n
// samples, then 1 or 2 unused reals) holding, after the forward transform, its n / 2 + 1 complex
// coefficients. Plans are cached per (n, batch, type) for the process, bound to the backend's
// stream; their work area comes from the backend's stream-ordered pool at each execution, so
// cuFFT holds no device memory of its own beyond the plans' twiddle tables.
#include <cufft.h>

#include <cstdint>

#include "tensor/error.h"

namespace ember::cuda {

const char* cufft_result_name(cufftResult result);

inline void check_cufft(cufftResult result, const char* call, const char* file, int line) {
  if (result != CUFFT_SUCCESS)
    fail("cuFFT error at ", file, ":", line, ": ", cufft_result_name(result), " (", call, ")");
}

// The smallest even 2^a 3^b 5^c 7^d >= max(n, 8): lengths cuFFT's kernels handle fast (even,
// so a real transform runs as a complex one of half the length).
int64_t fft_fast_length(int64_t n);

// Reals per row of the padded in-place layout: 2 (n / 2 + 1).
inline int64_t fft_row_pitch(int64_t n) { return 2 * (n / 2 + 1); }

// In place on `batch` rows starting at `rows` (device memory, rows fft_row_pitch(n) reals apart):
// forward, real to complex (R2C / D2Z), or inverse, complex to real (C2R / Z2D, unnormalised).
void fft_forward(float* rows, int64_t n, int64_t batch);
void fft_forward(double* rows, int64_t n, int64_t batch);
void fft_inverse(float* rows, int64_t n, int64_t batch);
void fft_inverse(double* rows, int64_t n, int64_t batch);

}  // namespace ember::cuda

#define CUFFT_CHECK(call) ::ember::cuda::check_cufft((call), #call, __FILE__, __LINE__)
