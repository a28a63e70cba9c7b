#pragma once
// Elementwise maps over strided operands of one dtype: out = f(x), out = f(a, b), ...
// The functor runs in compute_t<T> (float for bf16).
#include "backends/cpu/strided.h"

namespace ember::cpu {

template <typename T, typename R = T, typename F>
void map1(const Tensor& x, const Tensor& out, F f) {
  using C = compute_t<T>;
  std::array<const Strides*, 2> st{&out.strides(), &x.strides()};
  std::array<char*, 2> base{static_cast<char*>(out.data_ptr()), static_cast<char*>(x.data_ptr())};
  for_each_run<2>(out.shape(), st, base, {esz<R>, esz<T>}, [&f](int64_t n, std::array<char*, 2> p, std::array<int64_t, 2> s) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* a = reinterpret_cast<const T*>(p[1]);
    if (s[0] == 1 && s[1] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<C>(a[i])));
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = static_cast<R>(f(static_cast<C>(a[i * s[1]])));
    }
  });
}

template <typename T, typename R = T, typename F>
void map2(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  using C = compute_t<T>;
  std::array<const Strides*, 3> st{&out.strides(), &a.strides(), &b.strides()};
  std::array<char*, 3> base{static_cast<char*>(out.data_ptr()), static_cast<char*>(a.data_ptr()),
                            static_cast<char*>(b.data_ptr())};
  for_each_run<3>(out.shape(), st, base, {esz<R>, esz<T>, esz<T>},
                  [&f](int64_t n, std::array<char*, 3> p, std::array<int64_t, 3> s) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    const T* y = reinterpret_cast<const T*>(p[2]);
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<C>(x[i]), static_cast<C>(y[i])));
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
      const C yv = static_cast<C>(y[0]);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<C>(x[i]), yv));
    } else {
      for (int64_t i = 0; i < n; ++i)
        o[i * s[0]] = static_cast<R>(f(static_cast<C>(x[i * s[1]]), static_cast<C>(y[i * s[2]])));
    }
  });
}

}  // namespace ember::cpu
