#pragma once
// Row loops for the CPU row kernels (softmax, cross-entropy, layer norm), on the vectorisable
// exp and erf of backends/fast_math.h (shared with the CUDA kernels).
#include <cmath>
#include <cstdint>
#include <limits>

#include "backends/cpu/strided.h"
#include "backends/fast_math.h"

namespace ember::cpu {

using fast_math::verf;
using fast_math::vexp;

// fn(r) for each of `rows` rows of `cols` elements, spread over threads when worth it.
template <typename Fn>
void for_each_row(int64_t rows, int64_t cols, Fn&& fn) {
  parallel_for(rows, rows * cols >= kParallelGrain && rows > 1, fn);
}

template <typename T>
compute_t<T> row_max(const T* x, int64_t n) {
  using C = compute_t<T>;
  C m = -std::numeric_limits<C>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = m > static_cast<C>(x[i]) ? m : static_cast<C>(x[i]);
  return m;
}

template <typename T>
compute_t<T> row_sum(const T* x, int64_t n) {
  compute_t<T> s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += static_cast<compute_t<T>>(x[i]);
  return s;
}

// log(sum(exp(x))), shifted by the row's max so that no term overflows.
template <typename T>
compute_t<T> row_logsumexp(const T* x, int64_t n) {
  using C = compute_t<T>;
  const C m = row_max(x, n);
  C s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += vexp(static_cast<C>(x[i]) - m);
  return m + std::log(s);
}

}  // namespace ember::cpu
