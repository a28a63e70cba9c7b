// Copies with dtype conversion, fills, and uniform random numbers.
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided.h"
#include "tensor/random.h"

namespace ember {

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  check(src.shape() == dst.shape(), "copy: source shape ", src.shape(), " differs from destination ", dst.shape());
  dispatch_all(src.dtype(), [&]<typename S>() {
    dispatch_all(dst.dtype(), [&]<typename D>() {
      std::array<const Strides*, 2> st{&dst.strides(), &src.strides()};
      std::array<char*, 2> base{static_cast<char*>(dst.data_ptr()), static_cast<char*>(src.data_ptr())};
      cpu::for_each_run<2>(dst.shape(), st, base, {cpu::esz<D>, cpu::esz<S>}, [](int64_t n, std::array<char*, 2> p, std::array<int64_t, 2> s) {
        D* d = reinterpret_cast<D*>(p[0]);
        const S* x = reinterpret_cast<const S*>(p[1]);
        if (s[0] == 1 && s[1] == 1) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) d[i] = convert_value<D>(static_cast<compute_t<S>>(x[i]));
        } else {
          for (int64_t i = 0; i < n; ++i) d[i * s[0]] = convert_value<D>(static_cast<compute_t<S>>(x[i * s[1]]));
        }
      });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  dispatch_all(dst.dtype(), [&]<typename T>() {
    const T v = static_cast<T>(convert_value<compute_t<T>>(value));
    std::array<const Strides*, 1> st{&dst.strides()};
    std::array<char*, 1> base{static_cast<char*>(dst.data_ptr())};
    cpu::for_each_run<1>(dst.shape(), st, base, {cpu::esz<T>}, [v](int64_t n, std::array<char*, 1> p, std::array<int64_t, 1> s) {
      T* d = reinterpret_cast<T*>(p[0]);
      for (int64_t i = 0; i < n; ++i) d[i * s[0]] = v;
    });
  });
}

void CpuBackend::uniform(const Tensor& out, uint64_t key, uint64_t offset) {
  check(out.is_contiguous(), "uniform: output must be contiguous");
  dispatch_floating(out.dtype(), "uniform", [&]<typename T>() {
    T* d = out.data<T>();
    const int64_t n = out.numel();
#pragma omp parallel for if (n >= cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<T>(philox_uniform(key, offset, static_cast<uint64_t>(i)));
  });
}

}  // namespace ember
