#pragma once
// exp and erf for the elementwise kernels of both backends. The float versions are
// straight-line arithmetic: on the CPU they vectorise inside `#pragma omp simd` loops (glibc's
// expf and erff are opaque calls that stop that), and erf is the same polynomial on the GPU, so
// both devices give the same values. The double versions are the standard library's.
#include <bit>
#include <cmath>
#include <cstdint>

#include "backends/host_device.h"

namespace ember::fast_math {

// glibc's expf is an opaque call that stops a `#pragma omp simd` loop from vectorising
// (without -ffast-math), so the float exp here is straight-line arithmetic the compiler can
// widen: Cephes' range reduction exp(x) = 2^n * exp(r), |r| <= ln2 / 2, with
// exp(r) ~ 1 + r + r^2 P(r), P of degree 5. It stays within 2 ulp of the exact result,
// denormals included; exp(-inf) = 0, exp(+inf) = inf, exp(NaN) = NaN.
EMBER_HOST_DEVICE float vexp(float x) {
#ifdef __CUDA_ARCH__
  return expf(x);  // the GPU's own exp is fast; the polynomial below is for CPU vector loops
#else
  // Beyond these the result is inf / rounds to 0; clamping keeps 2^n within the scaling below.
  x = x < -104.0f ? -104.0f : x;
  x = x > 89.0f ? 89.0f : x;
  // n = round(x / ln2) by the 1.5 * 2^23 trick: adding it leaves n in the low mantissa bits,
  // without a float-to-int conversion (which NaN would make undefined).
  constexpr float kShift = 12582912.0f;
  const float shifted = x * 1.44269504088896341f + kShift;
  const float n = shifted - kShift;
  const int32_t ni = static_cast<int32_t>(std::bit_cast<uint32_t>(shifted) - std::bit_cast<uint32_t>(kShift));
  // ln2 in two parts so that n * ln2_hi is exact.
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n in two factors, each a normal float for n in [-151, 129], so a denormal result is
  // rounded once, at the last multiply.
  const int32_t half = ni >> 1;
  const float scale1 = std::bit_cast<float>(static_cast<uint32_t>(half + 127) << 23);
  const float scale2 = std::bit_cast<float>(static_cast<uint32_t>(ni - half + 127) << 23);
  return p * scale1 * scale2;
#endif
}

EMBER_HOST_DEVICE double vexp(double x) { return std::exp(x); }

// erf(x) as a rational function x P(x^2) / Q(x^2) on [-4, 4] (Eigen's and XLA's float erf;
// beyond 4 erf rounds to +-1 in float), vectorisable where glibc's erff is an opaque call.
// Within 4e-7 of the exact result (6 ulp at most, near |x| = 4); erf(NaN) = NaN.
EMBER_HOST_DEVICE float verf(float x) {
  x = x < -4.0f ? -4.0f : x;
  x = x > 4.0f ? 4.0f : x;
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return x * p / q;
}

EMBER_HOST_DEVICE double verf(double x) { return std::erf(x); }

}  // namespace ember::fast_math
