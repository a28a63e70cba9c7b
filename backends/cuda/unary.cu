// Unary elementwise kernels: math and activations, one kernel per op and dtype, on the
// formulas of elementwise_formulas.h that the CPU kernels also use, in the same compute type.
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"
#include "backends/cuda/enum_dispatch.h"
#include "backends/elementwise_formulas.h"

namespace ember {
namespace {

template <typename T, UnaryOp Op>
struct UnaryFn {
  T* out;
  const T* x;
  compute_t<T> alpha, beta;
  __device__ void operator()(const int64_t (&off)[2]) const {
    out[off[0]] = cuda::narrow<T>(formulas::unary_formula<Op>(cuda::widen(x[off[1]]), alpha, beta));
  }
  bool aligned4() const { return cuda::aligned4(out, x); }
  __device__ void vec4(int64_t i) const {
    const cuda::Pack4<T> in = cuda::load4(x + i);
    cuda::Pack4<T> r;
#pragma unroll
    for (int j = 0; j < 4; ++j) r.v[j] = cuda::narrow<T>(formulas::unary_formula<Op>(cuda::widen(in.v[j]), alpha, beta));
    cuda::store4(out + i, r);
  }
};

}  // namespace

void CudaBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) {
  cuda::check_on_device("unary", {&x, &out});
  const auto layout = cuda::make_layout<2>("unary", out.shape(), {&out.strides(), &x.strides()});
  dispatch_floating(x.dtype(), "unary", [&]<typename T>() {
    using C = compute_t<T>;
    T* o = static_cast<T*>(out.data_ptr());
    const T* in = static_cast<const T*>(x.data_ptr());
    cuda::dispatch_enum<UnaryOp, kUnaryOpCount>(op, "unary", [&]<UnaryOp Op>() {
      cuda::launch_elementwise(layout, UnaryFn<T, Op>{o, in, static_cast<C>(alpha), static_cast<C>(beta)});
    });
  });
}

}  // namespace ember
