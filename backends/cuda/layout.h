#pragma once
// Strided operands as the CUDA kernels take them: N operands of one shape, merged into as few
// dims as their strides allow (as the CPU backend walks them) and held in fixed arrays, so a
// layout is passed to a kernel by value.
#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace ember::cuda {

// Tensors have few dims, and merging leaves fewer still; more is refused, naming the op.
constexpr int kMaxDims = 8;

// Unsigned division by a fixed divisor d in [1, 2^31) as a multiply-high, an add and a shift
// (Granlund & Montgomery; PyTorch's IntDivider): exact for every dividend below 2^31, and far
// cheaper on the device than a division, let alone a 64-bit one.
struct FastDivisor {
  uint32_t divisor = 1, magic = 1, shift = 0;
  FastDivisor() = default;
  explicit FastDivisor(uint32_t d);
#ifdef __CUDACC__
  __device__ __forceinline__ uint32_t divide(uint32_t n) const { return (__umulhi(n, magic) + n) >> shift; }
#endif
};

template <int N>
struct Layout {
  int rank = 1;
  int64_t numel = 0;
  int64_t shape[kMaxDims] = {};       // outermost first
  int64_t strides[N][kMaxDims] = {};  // per operand, in elements
  // Set by make_layout where every element index and operand offset fits in int32: the kernel
  // then walks the dims in 32-bit arithmetic, dividing through divisors[d] (= shape[d]).
  bool index32 = false;
  FastDivisor divisors[kMaxDims] = {};

  // Every operand walks the same dense range [0, numel): element i is at offset i in each.
  bool contiguous() const {
    if (rank != 1) return false;
    for (int k = 0; k < N; ++k)
      if (strides[k][0] != 1) return false;
    return true;
  }
};

template <int N>
Layout<N> make_layout(const char* op, const Shape& shape, const std::array<const Strides*, N>& strides);

// The common cases: one operand with its own strides, and operands that are the tensors' own.
inline Layout<1> layout_of(const char* op, const Tensor& t) { return make_layout<1>(op, t.shape(), {&t.strides()}); }

}  // namespace ember::cuda
