// Binary elementwise kernels (arithmetic and comparisons) and where(), for every dtype, with
// the formulas of elementwise_formulas.h that the CPU kernels also use. Broadcast operands
// arrive as stride-0 views.
#include <type_traits>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"
#include "backends/cuda/enum_dispatch.h"
#include "backends/elementwise_formulas.h"

namespace ember {
namespace {

// R is T for arithmetic and bool for comparisons.
template <typename T, typename R, BinaryOp Op>
struct BinaryFn {
  R* out;
  const T* a;
  const T* b;
  __device__ void operator()(const int64_t (&off)[3]) const {
    out[off[0]] = cuda::narrow<R>(formulas::binary_formula<Op>(cuda::widen(a[off[1]]), cuda::widen(b[off[2]])));
  }
  bool aligned4() const { return cuda::aligned4(out, a, b); }
  __device__ void vec4(int64_t i) const {
    const cuda::Pack4<T> x = cuda::load4(a + i), y = cuda::load4(b + i);
    cuda::Pack4<R> r;
#pragma unroll
    for (int j = 0; j < 4; ++j) r.v[j] = cuda::narrow<R>(formulas::binary_formula<Op>(cuda::widen(x.v[j]), cuda::widen(y.v[j])));
    cuda::store4(out + i, r);
  }
};

// out = a op b where out and one operand are contiguous [rows, cols] and the other is one row
// [cols] broadcast over the rows (a bias): the common broadcast, walked without per-dim
// division and with vector accesses. FullIsA: a is the full operand, b the row.
template <typename T, typename R, BinaryOp Op, bool FullIsA>
struct RowBroadcastFn {
  R* out;
  const T* full;
  const T* row;
  uint32_t cols;
  __device__ auto value(T f, T r) const {
    return FullIsA ? formulas::binary_formula<Op>(cuda::widen(f), cuda::widen(r)) : formulas::binary_formula<Op>(cuda::widen(r), cuda::widen(f));
  }
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0];
    out[i] = cuda::narrow<R>(value(full[i], row[static_cast<uint32_t>(i) % cols]));
  }
  // Groups of 4 never cross a row: cols is a multiple of 4.
  bool aligned4() const { return cols % 4 == 0 && cuda::aligned4(out, full, row); }
  __device__ void vec4(int64_t i) const {
    const cuda::Pack4<T> x = cuda::load4(full + i), y = cuda::load4(row + static_cast<uint32_t>(i) % cols);
    cuda::Pack4<R> r;
#pragma unroll
    for (int j = 0; j < 4; ++j) r.v[j] = cuda::narrow<R>(value(x.v[j], y.v[j]));
    cuda::store4(out + i, r);
  }
};

// Which operand (1: a, 2: b) is a row broadcast over a contiguous [rows, cols] layout that out
// and the other operand share, or 0. The element count must fit the 32-bit index.
int row_broadcast_operand(const cuda::Layout<3>& l) {
  if (l.rank != 2 || !l.index32) return 0;
  const int64_t cols = l.shape[1];
  auto dense = [&](int k) { return l.strides[k][0] == cols && l.strides[k][1] == 1; };
  auto row = [&](int k) { return l.strides[k][0] == 0 && l.strides[k][1] == 1; };
  if (!dense(0)) return 0;
  if (dense(1) && row(2)) return 2;
  if (row(1) && dense(2)) return 1;
  return 0;
}

template <typename T>
struct WhereFn {
  T* out;
  const bool* cond;
  const T* a;
  const T* b;
  __device__ void operator()(const int64_t (&off)[4]) const { out[off[0]] = cond[off[1]] ? a[off[2]] : b[off[3]]; }
  bool aligned4() const { return cuda::aligned4(out, cond, a, b); }
  __device__ void vec4(int64_t i) const {
    const cuda::Pack4<bool> c = cuda::load4(cond + i);
    const cuda::Pack4<T> x = cuda::load4(a + i), y = cuda::load4(b + i);
    cuda::Pack4<T> r;
#pragma unroll
    for (int j = 0; j < 4; ++j) r.v[j] = c.v[j] ? x.v[j] : y.v[j];
    cuda::store4(out + i, r);
  }
};

}  // namespace

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  cuda::check_on_device("binary", {&a, &b, &out});
  const auto layout = cuda::make_layout<3>("binary", out.shape(), {&out.strides(), &a.strides(), &b.strides()});
  const int row_operand = row_broadcast_operand(layout);
  dispatch_all(a.dtype(), [&]<typename T>() {
    const T* x = static_cast<const T*>(a.data_ptr());
    const T* y = static_cast<const T*>(b.data_ptr());
    cuda::dispatch_enum<BinaryOp, kBinaryOpCount>(op, "binary", [&]<BinaryOp Op>() {
      using R = std::conditional_t<is_comparison(Op), bool, T>;
      R* z = static_cast<R*>(out.data_ptr());
      const auto cols = static_cast<uint32_t>(layout.shape[1]);
      if (row_operand == 2) {
        cuda::launch_elementwise(cuda::range_layout(layout.numel), RowBroadcastFn<T, R, Op, true>{z, x, y, cols});
      } else if (row_operand == 1) {
        cuda::launch_elementwise(cuda::range_layout(layout.numel), RowBroadcastFn<T, R, Op, false>{z, y, x, cols});
      } else {
        cuda::launch_elementwise(layout, BinaryFn<T, R, Op>{z, x, y});
      }
    });
  });
}

void CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  cuda::check_on_device("where", {&cond, &a, &b, &out});
  const auto layout = cuda::make_layout<4>("where", out.shape(),
                                           {&out.strides(), &cond.strides(), &a.strides(), &b.strides()});
  dispatch_all(a.dtype(), [&]<typename T>() {
    cuda::launch_elementwise(layout, WhereFn<T>{static_cast<T*>(out.data_ptr()), static_cast<const bool*>(cond.data_ptr()),
                                                static_cast<const T*>(a.data_ptr()), static_cast<const T*>(b.data_ptr())});
  });
}

}  // namespace ember
