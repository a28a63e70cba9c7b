// Binary elementwise kernels (arithmetic and comparisons) and where(), for every dtype, with
// the CPU backend's formulas (binary.cpp there). Broadcast operands arrive as stride-0 views.
#include <cmath>
#include <type_traits>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"
#include "backends/cuda/enum_dispatch.h"

namespace ember {
namespace {

template <typename>
constexpr bool kNoFormula = false;

template <BinaryOp Op, typename C>
__device__ __forceinline__ auto binary_value(C x, C y) {
  if constexpr (Op == BinaryOp::Add) return x + y;
  else if constexpr (Op == BinaryOp::Sub) return x - y;
  else if constexpr (Op == BinaryOp::Mul) return x * y;
  else if constexpr (Op == BinaryOp::Div) return x / y;
  else if constexpr (Op == BinaryOp::Pow) {
    if constexpr (std::is_floating_point_v<C>) return std::pow(x, y);
    else return static_cast<C>(std::pow(static_cast<double>(x), static_cast<double>(y)));
  } else if constexpr (Op == BinaryOp::Maximum) return (x > y || x != x) ? x : y;  // NaN wins
  else if constexpr (Op == BinaryOp::Minimum) return (x < y || x != x) ? x : y;
  else if constexpr (Op == BinaryOp::Eq) return x == y;
  else if constexpr (Op == BinaryOp::Ne) return x != y;
  else if constexpr (Op == BinaryOp::Lt) return x < y;
  else if constexpr (Op == BinaryOp::Le) return x <= y;
  else if constexpr (Op == BinaryOp::Gt) return x > y;
  else if constexpr (Op == BinaryOp::Ge) return x >= y;
  else static_assert(kNoFormula<C>, "binary_value: an op without a formula");
}

// R is T for arithmetic and bool for comparisons.
template <typename T, typename R, BinaryOp Op>
struct BinaryFn {
  R* out;
  const T* a;
  const T* b;
  __device__ void operator()(const int64_t (&off)[3]) const {
    out[off[0]] = cuda::narrow<R>(binary_value<Op>(cuda::widen(a[off[1]]), cuda::widen(b[off[2]])));
  }
  bool aligned4() const { return cuda::aligned4(out, a, b); }
  __device__ void vec4(int64_t i) const {
    const cuda::Pack4<T> x = cuda::load4(a + i), y = cuda::load4(b + i);
    cuda::Pack4<R> r;
#pragma unroll
    for (int j = 0; j < 4; ++j) r.v[j] = cuda::narrow<R>(binary_value<Op>(cuda::widen(x.v[j]), cuda::widen(y.v[j])));
    cuda::store4(out + i, r);
  }
};

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
  dispatch_all(a.dtype(), [&]<typename T>() {
    const T* x = static_cast<const T*>(a.data_ptr());
    const T* y = static_cast<const T*>(b.data_ptr());
    cuda::dispatch_enum<BinaryOp, static_cast<int>(BinaryOp::Ge) + 1>(op, "binary", [&]<BinaryOp Op>() {
      using R = std::conditional_t<Op >= BinaryOp::Eq, bool, T>;
      cuda::launch_elementwise(layout, BinaryFn<T, R, Op>{static_cast<R*>(out.data_ptr()), x, y});
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
