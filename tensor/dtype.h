#pragma once
// The element types: f32 (default), f64 (gradient checks), bf16 (storage and conversion),
// i64 (indices), bool (masks). Kernels are written once as templates and dispatched here.
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <ostream>

#include "tensor/error.h"

namespace ember {

enum class DType : uint8_t { F32, F64, BF16, I64, Bool };

// bfloat16: the high half of an IEEE float; conversion rounds to nearest even.
struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  bf16(float f) {  // NOLINT: implicit on purpose, like float
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      bits = static_cast<uint16_t>((u >> 16) | 0x40u);  // keep NaN a quiet NaN
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);
      bits = static_cast<uint16_t>(u >> 16);
    }
  }
  operator float() const {  // NOLINT
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::BF16: return 2;
    case DType::I64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::BF16: return "bf16";
    case DType::I64: return "i64";
    case DType::Bool: return "bool";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::F32 || t == DType::F64 || t == DType::BF16; }

inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::F32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::F64; };
template <> struct dtype_of<bf16> { static constexpr DType value = DType::BF16; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::I64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

// Calls fn.template operator()<T>() with T the C++ type of `t`.
template <typename Fn>
decltype(auto) dispatch_all(DType t, Fn&& fn) {
  switch (t) {
    case DType::F32: return fn.template operator()<float>();
    case DType::F64: return fn.template operator()<double>();
    case DType::BF16: return fn.template operator()<bf16>();
    case DType::I64: return fn.template operator()<int64_t>();
    case DType::Bool: return fn.template operator()<bool>();
  }
  fail("dispatch: unknown dtype");
}

// Like dispatch_all, for the floating types only; `op` names the caller in the error.
template <typename Fn>
decltype(auto) dispatch_floating(DType t, const char* op, Fn&& fn) {
  switch (t) {
    case DType::F32: return fn.template operator()<float>();
    case DType::F64: return fn.template operator()<double>();
    case DType::BF16: return fn.template operator()<bf16>();
    default: fail(op, ": expected a floating dtype (f32, f64, bf16), got ", t);
  }
}

// The type arithmetic happens in: float for bf16, the type itself otherwise.
template <typename T> struct compute_type { using type = T; };
template <> struct compute_type<bf16> { using type = float; };
template <typename T> using compute_t = typename compute_type<T>::type;
// The same as a dtype: f32 for bf16, the dtype itself otherwise.
inline DType compute_dtype(DType t) { return t == DType::BF16 ? DType::F32 : t; }

// static_cast<D>(v) with a defined result where C++ has none: a floating value converted to an
// integer type saturates (NaN becomes 0, +-inf and out-of-range values the nearest limit)
// instead of being undefined behaviour (UBSan's float-cast-overflow); bool is v != 0.
template <typename D, typename F>
inline D convert_value(F v) {
  if constexpr (std::is_integral_v<D> && !std::is_same_v<D, bool> && std::is_floating_point_v<F>) {
    if (v != v) return D(0);
    // 2^63 (or 2^31...) is exact in a double; values at or beyond it saturate.
    constexpr double hi = static_cast<double>(std::numeric_limits<D>::max()) + 1.0;
    constexpr double lo = static_cast<double>(std::numeric_limits<D>::min());
    if (static_cast<double>(v) >= hi) return std::numeric_limits<D>::max();
    if (static_cast<double>(v) < lo) return std::numeric_limits<D>::min();
    return static_cast<D>(v);
  } else {
    return static_cast<D>(v);
  }
}

}  // namespace ember
