#pragma once
// Creating tensors. Constants (full, zeros, ones) are filled on the device itself; computed
// values (arange, linspace, eye, random draws) are generated on the host from the Philox counter
// and copied over, so a seed gives the same numbers on every device.
#include <vector>

#include "tensor/tensor.h"

namespace ember {

struct TensorOptions {
  DType dtype = DType::F32;
  Device device = Device::cpu();
  bool requires_grad = false;
};

Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor scalar(double value, TensorOptions options = {});
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, TensorOptions options = {});
// Uniform in [0, 1), standard normal, and integers in [low, high) (i64 by default).
Tensor rand(const Shape& shape, TensorOptions options = {});
Tensor randn(const Shape& shape, TensorOptions options = {});
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = {.dtype = DType::I64});

// From host values; the dtype defaults to T's.
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options = {.dtype = dtype_of<T>::value});

}  // namespace ember
