#pragma once
// The shared engine of the elementwise kernels: a grid-stride loop over the elements of a
// Layout, handing the functor each operand's element offset. Every launch is on the backend's
// stream and checked.
//
// Four walks, chosen per launch; each computes every element exactly as the others would:
// - contiguous operands (the layout collapsed to one dim of unit strides): offset = index, no
//   division; a functor that offers vec4 (below) and whose pointers allow it moves 4 elements
//   per thread with vector loads and stores;
// - operands that disagree on their fastest dim (a transposed view against a contiguous one,
//   as in the Hyena operator's channels-last gradients): tiles of 32 x 32 elements over the
//   output's fastest dim (columns) and the other operand's (rows), the rest as batch dims. A
//   warp covers 4 rows x 8 columns per step, so each access touches 4 or 8 lines, and the tile's
//   lines (4 KB per operand) stay in L1 while the block's other warps use the rest of them: every
//   operand is read from memory once, in whole sectors, where the plain walk reads the
//   transposed one in sectors of which it uses one element. The functor does its load, compute
//   and store in one call, so shared memory cannot stage the stores; the tile's columns are the
//   output's fastest dim so that the stores are the coalesced side;
// - other strided operands whose indices fit in 32 bits: the dims are peeled with FastDivisor;
// - anything else: 64-bit division per dim.
#include <concepts>
#include <cstdint>
#include <limits>

#include "backends/cuda/check.h"
#include "backends/cuda/context.h"
#include "backends/cuda/dtype.cuh"
#include "backends/cuda/layout.h"

namespace ember::cuda {

constexpr int kThreads = 256;

// Four elements of T as one aligned access (16 bytes for f32, 8 for bf16, two 16-byte
// accesses for f64 / i64).
template <typename T>
struct alignas(4 * sizeof(T)) Pack4 {
  T v[4];
};

template <typename T>
__device__ __forceinline__ Pack4<T> load4(const T* p) {
  return *reinterpret_cast<const Pack4<T>*>(p);
}

template <typename T>
__device__ __forceinline__ void store4(T* p, const Pack4<T>& x) {
  *reinterpret_cast<Pack4<T>*>(p) = x;
}

// Whether every pointer may be read or written as Pack4 of its type.
template <typename... T>
bool aligned4(const T*... p) {
  return ((reinterpret_cast<uintptr_t>(p) % alignof(Pack4<T>) == 0) && ...);
}

// A functor may also offer, for contiguous operands, `bool aligned4() const` (host: its
// pointers allow Pack4 accesses) and `void vec4(int64_t i) const` (device: elements i .. i + 3,
// with i a multiple of 4), computing each element as operator() does.
template <typename F>
concept Vectorized = requires(const F& f) {
  { f.aligned4() } -> std::convertible_to<bool>;
};

template <int N, typename F>
__device__ __forceinline__ void apply_at(const F& f, int64_t i) {
  int64_t off[N];
  for (int k = 0; k < N; ++k) off[k] = i;
  f(off);
}

// Offsets of element i (row-major over the layout's shape) in each operand.
template <int N>
__device__ __forceinline__ void element_offsets(const Layout<N>& l, int64_t i, int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = l.rank - 1; d > 0; --d) {
    const int64_t idx = i % l.shape[d];
    i /= l.shape[d];
    for (int k = 0; k < N; ++k) off[k] += idx * l.strides[k][d];
  }
  for (int k = 0; k < N; ++k) off[k] += i * l.strides[k][0];
}

// The same in 32-bit arithmetic, for layouts with index32 set.
template <int N>
__device__ __forceinline__ void element_offsets(const Layout<N>& l, uint32_t i, int64_t (&off)[N]) {
  int32_t o[N];
#pragma unroll
  for (int k = 0; k < N; ++k) o[k] = 0;
#pragma unroll
  for (int d = kMaxDims - 1; d > 0; --d) {
    if (d < l.rank) {
      const uint32_t q = l.divisors[d].divide(i);
      const int32_t idx = static_cast<int32_t>(i - q * l.divisors[d].divisor);
#pragma unroll
      for (int k = 0; k < N; ++k) o[k] += idx * static_cast<int32_t>(l.strides[k][d]);
      i = q;
    }
  }
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = o[k] + static_cast<int32_t>(i) * static_cast<int32_t>(l.strides[k][0]);
}

template <typename Index, int N, typename F>
__global__ void __launch_bounds__(kThreads) elementwise_kernel(Layout<N> layout, F f) {
  const Index n = static_cast<Index>(layout.numel), step = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[N];
    element_offsets(layout, i, off);
    f(off);
  }
}

template <typename Index, int N, typename F>
__global__ void __launch_bounds__(kThreads) contiguous_kernel(Index n, F f) {
  const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    apply_at<N>(f, static_cast<int64_t>(i));
}

// Groups of 4 through f.vec4, then the last n % 4 elements one by one.
template <typename Index, int N, typename F>
__global__ void __launch_bounds__(kThreads) vec4_kernel(Index n, F f) {
  const Index groups = n / 4, step = static_cast<Index>(gridDim.x) * blockDim.x;
  const Index first = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (Index g = first; g < groups; g += step) f.vec4(static_cast<int64_t>(g) * 4);
  if (first < n - groups * 4) apply_at<N>(f, static_cast<int64_t>(groups * 4 + first));
}

// The tiled walk's geometry: a rows x cols plane (cols along the output's fastest dim, rows
// along another operand's) cut into kTile x kTile tiles, repeated over the batch dims.
constexpr int kTile = 32;
constexpr int kTileColsPerWarp = 8, kTileRowsPerWarp = 32 / kTileColsPerWarp;
static_assert(kThreads / 32 * kTileRowsPerWarp == kTile, "a block's warps cover the tile's rows");

template <int N>
struct TiledLayout {
  int64_t rows = 0, cols = 0;
  int64_t row_stride[N] = {}, col_stride[N] = {};
  uint32_t row_tiles = 0, col_tiles = 0;
  int batch_rank = 0;
  uint32_t batch_shape[kMaxDims] = {};      // innermost first
  int64_t batch_strides[N][kMaxDims] = {};  // per operand, innermost first
};

inline int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

// The tiled walk for `l` where it pays: some input k reads the output's fastest dim (cols) with
// a stride of 2 or more, and has a dim (rows) of smaller stride; both dims at least half a tile,
// and one block per tile within the grid's limit. False otherwise.
template <int N>
bool tiled_layout_of(const Layout<N>& l, TiledLayout<N>& t) {
  if (l.rank < 2) return false;
  // The dim of the smallest nonzero |stride| of operand k other than `skip`, the innermost on ties.
  auto fastest = [&](int k, int skip) {
    int best = -1;
    for (int d = l.rank - 1; d >= 0; --d) {
      const int64_t s = abs64(l.strides[k][d]);
      if (d != skip && s != 0 && (best < 0 || s < abs64(l.strides[k][best]))) best = d;
    }
    return best;
  };
  const int col = fastest(0, -1);
  if (col < 0) return false;
  int row = -1;
  for (int k = 1; k < N && row < 0; ++k) {
    const int d = fastest(k, col);
    if (d >= 0 && abs64(l.strides[k][col]) >= 2 && abs64(l.strides[k][d]) < abs64(l.strides[k][col])) row = d;
  }
  if (row < 0 || l.shape[row] < kTile / 2 || l.shape[col] < kTile / 2) return false;
  t.rows = l.shape[row];
  t.cols = l.shape[col];
  const int64_t row_tiles = (t.rows + kTile - 1) / kTile, col_tiles = (t.cols + kTile - 1) / kTile;
  const int64_t blocks = l.numel / (t.rows * t.cols) * row_tiles * col_tiles;
  if (blocks > std::numeric_limits<int32_t>::max()) return false;
  t.row_tiles = static_cast<uint32_t>(row_tiles);
  t.col_tiles = static_cast<uint32_t>(col_tiles);
  for (int k = 0; k < N; ++k) {
    t.row_stride[k] = l.strides[k][row];
    t.col_stride[k] = l.strides[k][col];
  }
  t.batch_rank = 0;
  for (int d = l.rank - 1; d >= 0; --d) {
    if (d == row || d == col) continue;
    t.batch_shape[t.batch_rank] = static_cast<uint32_t>(l.shape[d]);  // below the block count
    for (int k = 0; k < N; ++k) t.batch_strides[k][t.batch_rank] = l.strides[k][d];
    ++t.batch_rank;
  }
  return true;
}

// A block per tile (column tiles fastest, then row tiles, then the batch). Thread (warp w, lane)
// owns row 4 w + lane / 8 of the tile and columns lane % 8 + 8 s for s = 0 .. 3.
template <int N, typename F>
__global__ void __launch_bounds__(kThreads) tiled_kernel(TiledLayout<N> t, F f) {
  uint32_t b = blockIdx.x;
  const uint32_t col_tile = b % t.col_tiles;
  b /= t.col_tiles;
  const uint32_t row_tile = b % t.row_tiles;
  b /= t.row_tiles;
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  const int64_t row = static_cast<int64_t>(row_tile) * kTile + warp * kTileRowsPerWarp + lane / kTileColsPerWarp;
  const int64_t col = static_cast<int64_t>(col_tile) * kTile + lane % kTileColsPerWarp;
  if (row >= t.rows) return;
  int64_t off[N];
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = row * t.row_stride[k] + col * t.col_stride[k];
#pragma unroll
  for (int d = 0; d < kMaxDims; ++d) {
    if (d < t.batch_rank) {
      const uint32_t idx = b % t.batch_shape[d];
      b /= t.batch_shape[d];
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += static_cast<int64_t>(idx) * t.batch_strides[k][d];
    }
  }
#pragma unroll
  for (int s = 0; s < kTile / kTileColsPerWarp; ++s) {
    if (col + s * kTileColsPerWarp >= t.cols) break;
    f(off);
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += kTileColsPerWarp * t.col_stride[k];
  }
}

// f(const int64_t (&offsets)[N]) for every element, on the device.
template <int N, typename F>
void launch_elementwise(const Layout<N>& layout, F f) {
  const int64_t n = layout.numel;
  if (n == 0) return;
  // Indices in 32 bits where n allows; i + step cannot overflow then (both are below 2^31).
  const bool small = n <= std::numeric_limits<int32_t>::max();
  if constexpr (Vectorized<F>) {
    if (layout.contiguous() && n >= 4 && f.aligned4()) {
      const unsigned grid = grid_for((n + 3) / 4, kThreads);
      if (small) vec4_kernel<uint32_t, N><<<grid, kThreads, 0, stream()>>>(static_cast<uint32_t>(n), f);
      else vec4_kernel<int64_t, N><<<grid, kThreads, 0, stream()>>>(n, f);
      CUDA_CHECK_LAUNCH();
      return;
    }
  }
  TiledLayout<N> tiled;
  if (layout.contiguous()) {
    if (small) {
      contiguous_kernel<uint32_t, N><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(static_cast<uint32_t>(n), f);
    } else {
      contiguous_kernel<int64_t, N><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(n, f);
    }
  } else if (tiled_layout_of(layout, tiled)) {
    const uint32_t batch = static_cast<uint32_t>(n / (tiled.rows * tiled.cols));
    tiled_kernel<N><<<batch * tiled.row_tiles * tiled.col_tiles, kThreads, 0, stream()>>>(tiled, f);
  } else if (layout.index32) {
    elementwise_kernel<uint32_t, N><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(layout, f);
  } else {
    elementwise_kernel<int64_t, N><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(layout, f);
  }
  CUDA_CHECK_LAUNCH();
}

// A plain range [0, n) as a one-operand layout: offsets[0] is the index itself.
inline Layout<1> range_layout(int64_t n) {
  Layout<1> l;
  l.numel = n;
  l.shape[0] = n;
  l.strides[0][0] = 1;
  return l;
}

}  // namespace ember::cuda
