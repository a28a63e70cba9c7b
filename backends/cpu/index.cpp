// Index kernels. index_select and index_add are gather and scatter_add with the 1-D index
// broadcast over the other dims (a stride-0 view, no copy), so one pair of loops serves all four.
#include <algorithm>
#include <limits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided.h"
#include "backends/host_checks.h"

namespace ember {
namespace {

// Checked before any element is written, so that a bad index leaves `out` untouched and no
// exception has to leave an OpenMP region.
void check_indices(const char* op, const Tensor& index, int dim, const Tensor& indexed) {
  host_checks::check_index_dtype(op, index);
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  std::array<const Strides*, 1> st{&index.strides()};
  std::array<char*, 1> base{static_cast<char*>(index.data_ptr())};
  auto bounds = [&](int64_t n, std::array<char*, 1> p, std::array<int64_t, 1> s) {
    const int64_t* ix = reinterpret_cast<const int64_t*>(p[0]);
    int64_t run_lo = std::numeric_limits<int64_t>::max(), run_hi = std::numeric_limits<int64_t>::min();
    for (int64_t i = 0; i < n; ++i) {
      run_lo = std::min(run_lo, ix[i * s[0]]);
      run_hi = std::max(run_hi, ix[i * s[0]]);
    }
#pragma omp critical(ember_index_bounds)
    {
      lo = std::min(lo, run_lo);
      hi = std::max(hi, run_hi);
    }
  };
  cpu::for_each_run<1>(index.shape(), st, base, {cpu::esz<int64_t>}, bounds);
  host_checks::check_index_range(op, lo, hi, dim, indexed);  // lo > hi when the index is empty
}

// out[p] = x[p with p[dim] = index[p]] for every position p of out (= index's shape). Every
// output element is written once, so all positions run in parallel.
template <typename T>
void gather_loop(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  Strides x_strides = x.strides();
  const int64_t step = x_strides[static_cast<size_t>(dim)];
  x_strides[static_cast<size_t>(dim)] = 0;
  std::array<const Strides*, 3> st{&out.strides(), &x_strides, &index.strides()};
  std::array<char*, 3> base{static_cast<char*>(out.data_ptr()), static_cast<char*>(x.data_ptr()),
                            static_cast<char*>(index.data_ptr())};
  cpu::for_each_run<3>(out.shape(), st, base, {cpu::esz<T>, cpu::esz<T>, cpu::esz<int64_t>},
                       [step](int64_t n, std::array<char*, 3> p, std::array<int64_t, 3> s) {
    T* o = reinterpret_cast<T*>(p[0]);
    const T* src = reinterpret_cast<const T*>(p[1]);
    const int64_t* ix = reinterpret_cast<const int64_t*>(p[2]);
    if (s[2] == 0) {  // one index for the whole run (index_select): a plain strided copy
      const T* row = src + ix[0] * step;
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = row[i * s[1]];
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = src[i * s[1] + ix[i * s[2]] * step];
    }
  });
}

// out[p with p[dim] = index[p]] += src[p] for every position p of index's shape. Repeated
// indices add into one element, so threads split the positions outside `dim` (which address
// disjoint elements of out) and each walks `dim` itself sequentially.
template <typename T>
void scatter_add_loop(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  using C = compute_t<T>;
  const auto d = static_cast<size_t>(dim);
  auto drop_dim = [d](Strides s) {
    s.erase(s.begin() + static_cast<std::ptrdiff_t>(d));
    return s;
  };
  const Shape rest = drop_dim(index.shape());
  const Strides out_rest = drop_dim(out.strides()), src_rest = drop_dim(src.strides()),
                index_rest = drop_dim(index.strides());
  const int64_t count = index.shape()[d];
  const int64_t out_step = out.strides()[d], src_step = src.strides()[d], index_step = index.strides()[d];
  std::array<const Strides*, 3> st{&out_rest, &src_rest, &index_rest};
  std::array<char*, 3> base{static_cast<char*>(out.data_ptr()), static_cast<char*>(src.data_ptr()),
                            static_cast<char*>(index.data_ptr())};
  cpu::for_each_run<3>(rest, st, base, {cpu::esz<T>, cpu::esz<T>, cpu::esz<int64_t>},
                       [=](int64_t n, std::array<char*, 3> p, std::array<int64_t, 3> s) {
    T* o = reinterpret_cast<T*>(p[0]);
    auto add = [](T& dst, T v) { dst = static_cast<T>(static_cast<C>(dst) + static_cast<C>(v)); };
    for (int64_t k = 0; k < count; ++k) {
      const T* a = reinterpret_cast<const T*>(p[1]) + k * src_step;
      const int64_t* ix = reinterpret_cast<const int64_t*>(p[2]) + k * index_step;
      if (s[2] == 0) {  // one index for the whole run (index_add): a strided row update
        T* row = o + ix[0] * out_step;
        for (int64_t i = 0; i < n; ++i) add(row[i * s[0]], a[i * s[1]]);
      } else {
        for (int64_t i = 0; i < n; ++i) add(o[i * s[0] + ix[i * s[2]] * out_step], a[i * s[1]]);
      }
    }
  });
}

}  // namespace

void CpuBackend::index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  check_indices("index_select", index, dim, x);
  Tensor wide = host_checks::broadcast_index(index, dim, out.shape(), "index_select");
  dispatch_all(x.dtype(), [&]<typename T>() { gather_loop<T>(x, dim, wide, out); });
}

void CpuBackend::index_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) {
  check_indices("index_add", index, dim, out);
  Tensor wide = host_checks::broadcast_index(index, dim, src.shape(), "index_add");
  dispatch_all(out.dtype(), [&]<typename T>() { scatter_add_loop<T>(out, dim, wide, src); });
}

void CpuBackend::gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  check_indices("gather", index, dim, x);
  dispatch_all(x.dtype(), [&]<typename T>() { gather_loop<T>(x, dim, index, out); });
}

void CpuBackend::scatter_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) {
  check_indices("scatter_add", index, dim, out);
  dispatch_all(out.dtype(), [&]<typename T>() { scatter_add_loop<T>(out, dim, index, src); });
}

}  // namespace ember
