#include "backends/cuda/layout.h"

#include <cstdlib>
#include <limits>

#include "backends/cpu/strided.h"

namespace ember::cuda {

FastDivisor::FastDivisor(uint32_t d) : divisor(d) {
  check(d >= 1 && d <= static_cast<uint32_t>(std::numeric_limits<int32_t>::max()), "FastDivisor: divisor ", d,
        " outside [1, 2^31)");
  while ((uint64_t{1} << shift) < d) ++shift;  // ceil(log2 d)
  magic = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
}

template <int N>
Layout<N> make_layout(const char* op, const Shape& shape, const std::array<const Strides*, N>& strides) {
  const cpu::Collapsed<N> c = cpu::collapse<N>(shape, strides);
  check(c.shape.size() <= kMaxDims, op, ": shape ", shape, " needs ", c.shape.size(),
        " dims after merging; the CUDA kernels take at most ", kMaxDims);
  Layout<N> l;
  l.rank = static_cast<int>(c.shape.size());
  l.numel = numel_of(shape);
  for (int d = 0; d < l.rank; ++d) {
    l.shape[d] = c.shape[static_cast<size_t>(d)];
    for (int k = 0; k < N; ++k) l.strides[k][d] = c.strides[static_cast<size_t>(k)][static_cast<size_t>(d)];
  }
  // 32-bit walks need the element count and every operand's farthest offset within int32.
  constexpr int64_t kMax32 = std::numeric_limits<int32_t>::max();
  bool fits = l.numel <= kMax32;
  for (int k = 0; k < N && fits; ++k) {
    int64_t span = 0;
    for (int d = 0; d < l.rank; ++d) span += std::llabs(l.strides[k][d]) * (l.shape[d] - 1);
    fits = span <= kMax32;
  }
  if (fits && l.numel > 0) {
    l.index32 = true;
    for (int d = 0; d < l.rank; ++d) l.divisors[d] = FastDivisor(static_cast<uint32_t>(l.shape[d]));
  }
  return l;
}

template Layout<1> make_layout<1>(const char*, const Shape&, const std::array<const Strides*, 1>&);
template Layout<2> make_layout<2>(const char*, const Shape&, const std::array<const Strides*, 2>&);
template Layout<3> make_layout<3>(const char*, const Shape&, const std::array<const Strides*, 3>&);
template Layout<4> make_layout<4>(const char*, const Shape&, const std::array<const Strides*, 4>&);

}  // namespace ember::cuda
