#include "backends/cuda/layout.h"

#include "backends/cpu/strided.h"

namespace ember::cuda {

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
  return l;
}

template Layout<1> make_layout<1>(const char*, const Shape&, const std::array<const Strides*, 1>&);
template Layout<2> make_layout<2>(const char*, const Shape&, const std::array<const Strides*, 2>&);
template Layout<3> make_layout<3>(const char*, const Shape&, const std::array<const Strides*, 3>&);
template Layout<4> make_layout<4>(const char*, const Shape&, const std::array<const Strides*, 4>&);

}  // namespace ember::cuda
