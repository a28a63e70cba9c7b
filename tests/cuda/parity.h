#pragma once
// Shared by the CUDA tests: a fixture that skips without a device, and the CPU-vs-CUDA
// comparison every kernel test makes (the same inputs, layout included, on both backends).
#include <cmath>

#include "backends/backend.h"
#include "backends/cuda/cuda_device.h"
#include "tests/testing.h"

namespace ember::testing {

// GTEST_SKIP in SetUp skips the test body: every CUDA test starts here.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

// Relative tolerance of a CPU-vs-CUDA comparison: the two sum in different orders and use
// different libm implementations, and bf16 results may round to neighbouring values.
inline double tolerance(DType t) {
  switch (t) {
    case DType::F64: return 1e-12;
    case DType::F32: return 1e-5;
    case DType::BF16: return 1e-2;
    default: return 0;  // integers and bools agree exactly
  }
}

// One tensor on both devices with the same layout: the GPU copy holds the whole storage, so a
// strided or offset view stays that view.
struct Both {
  Tensor cpu, gpu;
  const Tensor& on(bool gpu_side) const { return gpu_side ? gpu : cpu; }
};

inline Both both(const Tensor& host) {
  const size_t nbytes = host.storage()->nbytes();
  const int64_t elements = static_cast<int64_t>(nbytes / dtype_size(host.dtype()));
  Tensor base = empty({elements}, {.dtype = host.dtype(), .device = Device::cuda()});
  copy_bytes(base.data_ptr(), base.device(), host.storage()->data(), Device::cpu(), nbytes);
  return {host, as_strided(base, host.shape(), host.strides(), host.offset())};
}

inline Both empty_both(const Shape& shape, DType dtype) {
  return {empty(shape, {.dtype = dtype}), empty(shape, {.dtype = dtype, .device = Device::cuda()})};
}

// fn(backend, gpu_side) on the CPU, then on the GPU.
template <typename Fn>
void on_both(Fn&& fn) {
  fn(backend_for(Device::cpu()), false);
  fn(backend_for(Device::cuda()), true);
}

// Random values of `dtype` (never all zero): normal for floating types, integers in [-9, 9]
// for i64, coin flips for bool.
inline Tensor random(const Shape& shape, DType dtype) {
  if (dtype == DType::I64) return randint(-9, 10, shape);
  if (dtype == DType::Bool) return to(randint(0, 2, shape), DType::Bool);
  return randn(shape, {.dtype = dtype});
}

// A random view of `shape` whose last two dims are transposed in memory.
inline Tensor random_transposed(const Shape& shape, DType dtype) {
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  return detach(transpose(random(swapped, dtype), -1, -2));
}

// |gpu - cpu| <= rtol * max(scale, |cpu|) elementwise (NaN matching NaN), on the same shape.
// `scale` is the typical magnitude of the values: a sum of n unit terms has scale sqrt(n), and
// the error of an element near 0 is relative to that, not to the element.
inline ::testing::AssertionResult close(const Tensor& gpu, const Tensor& cpu, double rtol, double scale = 1) {
  if (gpu.shape() != cpu.shape()) return ::testing::AssertionFailure() << "shapes " << gpu.shape() << " and " << cpu.shape();
  const std::vector<double> g = gpu.to_vector<double>(), c = cpu.to_vector<double>();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    const bool both_nan = std::isnan(g[i]) && std::isnan(c[i]);
    if (both_nan || std::abs(g[i] - c[i]) <= rtol * std::max(scale, std::abs(c[i]))) continue;
    if (bad++ == 0) first = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << c.size() << " elements differ beyond " << rtol
                                       << "; first at " << first << ": cuda " << g[first] << ", cpu " << c[first];
}

inline ::testing::AssertionResult close(const Both& t, double rtol, double scale = 1) {
  return close(t.gpu, t.cpu, rtol, scale);
}

}  // namespace ember::testing
