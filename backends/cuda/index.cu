// Index kernels. index_select and index_add are gather and scatter_add with the 1-D index
// broadcast over the other dims (a stride-0 view, no copy), so one pair of kernels serves all
// four. Indices are validated on the device first (index_check.h). scatter_add adds through
// atomics, so repeated indices accumulate in an unspecified order.
#include <cuda_bf16.h>

#include <limits>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"
#include "backends/cuda/index_check.h"
#include "backends/host_checks.h"
#include "tensor/creation.h"

namespace ember {
namespace {

struct RangeFn {
  const int64_t* index;
  bool skip_any;
  int64_t skip;
  unsigned long long* bounds;  // [lo, hi] as two's complement words, for the 64-bit atomics
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t v = index[off[0]];
    if (skip_any && v == skip) return;
    atomicMin(reinterpret_cast<long long*>(bounds), static_cast<long long>(v));
    atomicMax(reinterpret_cast<long long*>(bounds) + 1, static_cast<long long>(v));
  }
};

// out[p] = x[p with p[dim] = index[p]]: x's stride along dim is zeroed in the layout and
// applied to the index instead.
template <typename T>
struct GatherFn {
  T* out;
  const T* x;
  const int64_t* index;
  int64_t step;
  __device__ void operator()(const int64_t (&off)[3]) const { out[off[0]] = x[off[1] + index[off[2]] * step]; }
};

template <typename T>
__device__ void atomic_add(T* dst, T v) {
  if constexpr (std::is_same_v<T, bf16>) {
    atomicAdd(reinterpret_cast<__nv_bfloat16*>(dst), __ushort_as_bfloat16(v.bits));
  } else if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(dst), static_cast<unsigned long long>(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    if (v) *dst = true;  // bool + bool is or; every writer writes the same value
  } else {
    atomicAdd(dst, v);
  }
}

// out[p with p[dim] = index[p]] += src[p] for every position p of index's shape.
template <typename T>
struct ScatterAddFn {
  T* out;
  const T* src;
  const int64_t* index;
  int64_t step;
  __device__ void operator()(const int64_t (&off)[3]) const { atomic_add(out + off[0] + index[off[2]] * step, src[off[1]]); }
};

void check_indices(const char* op, const Tensor& index, int dim, const Tensor& indexed) {
  host_checks::check_index_dtype(op, index);
  const cuda::IndexRange r = cuda::index_range(index);
  host_checks::check_index_range(op, r.lo, r.hi, dim, indexed);
}

// `t`'s strides with the one along `dim` zeroed: the kernels add index * step themselves.
Strides without_dim(const Tensor& t, int dim) {
  Strides s = t.strides();
  s[static_cast<size_t>(dim)] = 0;
  return s;
}

void gather_into(const char* op, const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  const Strides x_strides = without_dim(x, dim);
  const auto layout = cuda::make_layout<3>(op, out.shape(), {&out.strides(), &x_strides, &index.strides()});
  dispatch_all(x.dtype(), [&]<typename T>() {
    cuda::launch_elementwise(layout, GatherFn<T>{static_cast<T*>(out.data_ptr()), static_cast<const T*>(x.data_ptr()),
                                                 static_cast<const int64_t*>(index.data_ptr()), x.stride(dim)});
  });
}

void scatter_add_into(const char* op, const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  const Strides out_strides = without_dim(out, dim);
  const auto layout = cuda::make_layout<3>(op, index.shape(), {&out_strides, &src.strides(), &index.strides()});
  dispatch_all(out.dtype(), [&]<typename T>() {
    cuda::launch_elementwise(layout, ScatterAddFn<T>{static_cast<T*>(out.data_ptr()), static_cast<const T*>(src.data_ptr()),
                                                     static_cast<const int64_t*>(index.data_ptr()), out.stride(dim)});
  });
}

}  // namespace

namespace cuda {

IndexRange index_range(const Tensor& index, std::optional<int64_t> skip) {
  int64_t bounds[2] = {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  if (index.numel() == 0) return {bounds[0], bounds[1]};
  Tensor device_bounds = empty({2}, {.dtype = DType::I64, .device = index.device()});
  copy_bytes(device_bounds.data_ptr(), index.device(), bounds, Device::cpu(), sizeof(bounds));
  launch_elementwise(layout_of("index", index),
                     RangeFn{static_cast<const int64_t*>(index.data_ptr()), skip.has_value(), skip.value_or(0),
                             static_cast<unsigned long long*>(device_bounds.data_ptr())});
  copy_bytes(bounds, Device::cpu(), device_bounds.data_ptr(), index.device(), sizeof(bounds));
  return {bounds[0], bounds[1]};
}

}  // namespace cuda

void CudaBackend::index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  cuda::check_on_device("index_select", {&x, &index, &out});
  check_indices("index_select", index, dim, x);
  gather_into("index_select", x, dim, host_checks::broadcast_index(index, dim, out.shape(), "index_select"), out);
}

void CudaBackend::index_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) {
  cuda::check_on_device("index_add", {&out, &index, &src});
  check_indices("index_add", index, dim, out);
  scatter_add_into("index_add", out, dim, host_checks::broadcast_index(index, dim, src.shape(), "index_add"), src);
}

void CudaBackend::gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  cuda::check_on_device("gather", {&x, &index, &out});
  check_indices("gather", index, dim, x);
  gather_into("gather", x, dim, index, out);
}

void CudaBackend::scatter_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) {
  cuda::check_on_device("scatter_add", {&out, &index, &src});
  check_indices("scatter_add", index, dim, out);
  scatter_add_into("scatter_add", out, dim, index, src);
}

}  // namespace ember
