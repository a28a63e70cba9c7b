#pragma once
// Integer division and power with a defined result for every input, shared by the CPU and CUDA
// kernels so both give the same answer. C++ leaves x / 0, INT64_MIN / -1 and an overflowing
// power undefined (x86 traps with SIGFPE on the first two); here:
//   x / 0 = 0 (the op checks for a zero divisor on the host and throws before any kernel runs,
//   so this value is only a guard), INT64_MIN / -1 = INT64_MIN (wraps, as PyTorch),
//   x ^ y wraps modulo 2^64 (as PyTorch's repeated multiplication); for y < 0 the result is
//   1 / x truncated: 1 for x = 1, +-1 for x = -1, 0 otherwise (PyTorch refuses negative powers).
#include <cstdint>
#include <type_traits>

#include "backends/host_device.h"

namespace ember::integer_math {

template <typename C>
EMBER_HOST_DEVICE C div(C x, C y) {
  if constexpr (std::is_same_v<C, bool>) {
    return y ? x : false;
  } else {
    using U = std::make_unsigned_t<C>;
    if (y == 0) return C(0);
    if constexpr (std::is_signed_v<C>)
      if (y == C(-1)) return static_cast<C>(U(0) - static_cast<U>(x));  // -x, wrapping
    return x / y;
  }
}

template <typename C>
EMBER_HOST_DEVICE C pow(C x, C y) {
  if constexpr (std::is_same_v<C, bool>) {
    return x || !y;
  } else {
    using U = std::make_unsigned_t<C>;
    if constexpr (std::is_signed_v<C>)
      if (y < 0) return x == 1 ? C(1) : x == C(-1) ? ((y & 1) ? C(-1) : C(1)) : C(0);
    U result = 1, base = static_cast<U>(x), e = static_cast<U>(y);
    while (e) {
      if (e & 1) result *= base;
      base *= base;
      e >>= 1;
    }
    return static_cast<C>(result);
  }
}

}  // namespace ember::integer_math
