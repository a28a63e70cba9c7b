#pragma once
// Element types in device code. tensor/dtype.h's bf16 conversions are host-only, so these
// redo them for the device bit for bit: bf16 widens exactly to float, and float rounds to the
// nearest even bf16 (NaN stays a quiet NaN). Arithmetic runs in compute_t<T>, as on the CPU.
#include <type_traits>

#include "tensor/dtype.h"

namespace ember::cuda {

template <typename T>
__device__ __forceinline__ compute_t<T> widen(T v) {
  if constexpr (std::is_same_v<T, bf16>) return __uint_as_float(static_cast<uint32_t>(v.bits) << 16);
  else return v;
}

__device__ __forceinline__ bf16 round_to_bf16(float f) {
  uint32_t u = __float_as_uint(f);
  bf16 r;
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    r.bits = static_cast<uint16_t>((u >> 16) | 0x40u);
  } else {
    u += 0x7fffu + ((u >> 16) & 1u);
    r.bits = static_cast<uint16_t>(u >> 16);
  }
  return r;
}

// v converted to D as static_cast<D> does on the host (through float for bf16).
template <typename D, typename V>
__device__ __forceinline__ D narrow(V v) {
  if constexpr (std::is_same_v<D, bf16>) return round_to_bf16(static_cast<float>(v));
  else return static_cast<D>(v);
}

template <typename C>
__device__ __forceinline__ bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return v != v;
  else return false;
}

}  // namespace ember::cuda
