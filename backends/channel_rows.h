#pragma once
// The rows of a [B,C,L] operand, or of a [C,K] one (batch stride 0), with any strides: the view
// that both backends' FFT convolution kernels walk (backends/cpu/fft_conv.cpp,
// backends/cuda/fft_conv.cu).
#include <cstdint>

#include "backends/host_device.h"
#include "tensor/tensor.h"

namespace ember::channel_rows {

template <typename T>
struct Rows {
  T* data = nullptr;
  int64_t batch_stride = 0, channel_stride = 0, step = 1;
  EMBER_HOST_DEVICE T* row(int64_t b, int64_t c) const { return data + b * batch_stride + c * channel_stride; }
};

// Empty (null data) for an undefined tensor.
template <typename T>
Rows<T> rows_of(const Tensor& t) {
  if (!t.defined()) return {};
  T* data = static_cast<T*>(t.data_ptr());
  if (t.dim() == 3) return {data, t.stride(0), t.stride(1), t.stride(2)};
  return {data, 0, t.stride(0), t.stride(1)};
}

}  // namespace ember::channel_rows
