// Copies with dtype conversion, fills, and uniform random numbers (the CPU's Philox stream:
// element i of (key, offset) is the same number on either device).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "backends/cuda/check.h"
#include "backends/cuda/context.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/elementwise.cuh"
#include "tensor/random.h"

namespace ember {
namespace {

template <typename D, typename S>
struct CopyFn {
  D* dst;
  const S* src;
  __device__ void operator()(const int64_t (&off)[2]) const { dst[off[0]] = cuda::narrow<D>(cuda::widen(src[off[1]])); }
  bool aligned4() const { return cuda::aligned4(dst, src); }
  __device__ void vec4(int64_t i) const {
    const cuda::Pack4<S> in = cuda::load4(src + i);
    cuda::Pack4<D> r;
#pragma unroll
    for (int j = 0; j < 4; ++j) r.v[j] = cuda::narrow<D>(cuda::widen(in.v[j]));
    cuda::store4(dst + i, r);
  }
};

template <typename T>
struct FillFn {
  T* dst;
  T value;
  __device__ void operator()(const int64_t (&off)[1]) const { dst[off[0]] = value; }
  bool aligned4() const { return cuda::aligned4(dst); }
  __device__ void vec4(int64_t i) const { cuda::store4(dst + i, cuda::Pack4<T>{{value, value, value, value}}); }
};

template <typename T>
struct UniformFn {
  T* dst;
  uint64_t key, offset;
  __device__ void operator()(const int64_t (&off)[1]) const {
    dst[off[0]] = cuda::narrow<T>(philox_uniform(key, offset, static_cast<uint64_t>(off[0])));
  }
};

// Whether t's elements fill the span from its first element without gaps or overlaps, in any
// order of dims (contiguous, or permuted as interleaved attention heads are).
bool fills_its_span(const Tensor& t) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of the dims that step
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.size(d) > 1) dims.emplace_back(t.stride(d), t.size(d));
  std::sort(dims.begin(), dims.end());
  int64_t span = 1;
  for (const auto& [stride, size] : dims) {
    if (stride != span) return false;
    span *= size;
  }
  return true;
}

}  // namespace

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  check(src.shape() == dst.shape(), "copy: source shape ", src.shape(), " differs from destination ", dst.shape());
  cuda::check_on_device("copy", {&src, &dst});
  const auto layout = cuda::make_layout<2>("copy", dst.shape(), {&dst.strides(), &src.strides()});
  dispatch_all(src.dtype(), [&]<typename S>() {
    dispatch_all(dst.dtype(), [&]<typename D>() {
      cuda::launch_elementwise(layout, CopyFn<D, S>{static_cast<D*>(dst.data_ptr()), static_cast<const S*>(src.data_ptr())});
    });
  });
}

void CudaBackend::fill(const Tensor& dst, double value) {
  cuda::check_on_device("fill", {&dst});
  if (dst.numel() == 0) return;
  dispatch_all(dst.dtype(), [&]<typename T>() {
    // Converted here, on the host, exactly as the CPU backend converts it.
    const T v = static_cast<T>(static_cast<compute_t<T>>(value));
    // Whole spans as one flat range (a memset for zero); anything else element by element.
    if (fills_its_span(dst)) return cuda::fill_elements(dst.data_ptr(), static_cast<size_t>(dst.numel()), sizeof(T), &v);
    cuda::launch_elementwise(cuda::layout_of("fill", dst), FillFn<T>{static_cast<T*>(dst.data_ptr()), v});
  });
}

namespace cuda {

void fill_elements(void* dst, size_t count, size_t element_size, const void* element) {
  if (count == 0) return;
  bool zero = true;
  for (size_t i = 0; i < element_size; ++i) zero = zero && static_cast<const unsigned char*>(element)[i] == 0;
  if (zero) {
    CUDA_CHECK(cudaMemsetAsync(dst, 0, count * element_size, stream()));
    return;
  }
  auto launch = [&]<typename T>() {
    T value;
    std::memcpy(&value, element, sizeof(T));
    launch_elementwise(range_layout(static_cast<int64_t>(count)), FillFn<T>{static_cast<T*>(dst), value});
  };
  switch (element_size) {
    case 1: return launch.operator()<uint8_t>();
    case 2: return launch.operator()<uint16_t>();
    case 4: return launch.operator()<uint32_t>();
    case 8: return launch.operator()<uint64_t>();
    default: fail("fill: elements of ", element_size, " bytes are not supported");
  }
}

}  // namespace cuda

void CudaBackend::uniform(const Tensor& out, uint64_t key, uint64_t offset) {
  check(out.is_contiguous(), "uniform: output must be contiguous");
  cuda::check_on_device("uniform", {&out});
  dispatch_floating(out.dtype(), "uniform", [&]<typename T>() {
    cuda::launch_elementwise(cuda::range_layout(out.numel()), UniformFn<T>{static_cast<T*>(out.data_ptr()), key, offset});
  });
}

}  // namespace ember
