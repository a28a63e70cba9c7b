// Reductions: sum, max, min, argmax, argmin over any set of dims, for every dtype.
//
// The kept dims and the reduced dims are merged separately (as on the CPU); then one of two
// kernels runs, chosen so that neighbouring threads read neighbouring memory:
// - along runs, when a reduced dim is innermost (x.sum(-1), full reductions): a block per
//   output, its threads striding over the output's elements, then a tree across the block;
// - down columns, when a kept dim is innermost (x.sum(0) of [N, C]): a block of 32 outputs by
//   8 row groups, each thread folding its rows, then a tree over the 8 groups; with few
//   outputs the rows are also split into slices across blocks, merged by a second kernel.
// Max and min propagate NaN and argmax/argmin return the first extremum (the first NaN if
// any), as on the CPU: every merge is order-independent, so results do not depend on timing.
#include <algorithm>
#include <limits>

#include "backends/cuda/block_reduce.cuh"
#include "backends/cuda/cuda_backend.h"
#include "backends/host_checks.h"
#include "tensor/creation.h"

namespace ember {
namespace {

template <typename T>
struct SumOp {
  using C = compute_t<T>;
  using State = C;
  using Result = T;
  __device__ static State init() { return C(0); }
  __device__ static State from(C v, int64_t) { return v; }
  __device__ static State merge(State a, State b) { return static_cast<C>(a + b); }
  __device__ static Result result(State s) { return cuda::narrow<T>(s); }
};

template <typename T, bool Max>
struct ExtremumOp {
  using C = compute_t<T>;
  using State = C;
  using Result = T;
  __device__ static State init() {
    using L = std::numeric_limits<C>;
    if constexpr (L::has_infinity) return Max ? -L::infinity() : L::infinity();
    else return Max ? L::lowest() : L::max();
  }
  __device__ static State from(C v, int64_t) { return v; }
  __device__ static State merge(State a, State b) { return ((Max ? b > a : b < a) || cuda::is_nan(b)) ? b : a; }
  __device__ static Result result(State s) { return cuda::narrow<T>(s); }
};

template <typename C>
struct ArgState {
  C value;
  int64_t index;  // -1: no element yet
};

template <typename T, bool Max>
struct ArgExtremumOp {
  using C = compute_t<T>;
  using State = ArgState<C>;
  using Result = int64_t;
  __device__ static State init() { return {C(0), -1}; }
  __device__ static State from(C v, int64_t i) { return {v, i}; }
  __device__ static State merge(State a, State b) {
    if (a.index < 0) return b;
    if (b.index < 0) return a;
    const bool a_nan = cuda::is_nan(a.value), b_nan = cuda::is_nan(b.value);
    if (a_nan || b_nan) return (a_nan && (!b_nan || a.index < b.index)) ? a : b;
    if (Max ? a.value > b.value : a.value < b.value) return a;
    if (Max ? b.value > a.value : b.value < a.value) return b;
    return a.index < b.index ? a : b;
  }
  __device__ static Result result(State s) { return s.index; }
};

__device__ __forceinline__ int64_t offset_of(const cuda::Layout<1>& l, int64_t i) {
  int64_t off[1];
  cuda::element_offsets(l, i, off);
  return off[0];
}

template <typename Op, typename T>
__global__ void __launch_bounds__(cuda::kThreads)
    reduce_runs_kernel(cuda::Layout<1> kept, cuda::Layout<1> reduced, const T* x, typename Op::Result* out) {
  for (int64_t o = blockIdx.x; o < kept.numel; o += gridDim.x) {
    const T* base = x + offset_of(kept, o);
    typename Op::State acc = Op::init();
    for (int64_t i = threadIdx.x; i < reduced.numel; i += blockDim.x)
      acc = Op::merge(acc, Op::from(cuda::widen(base[offset_of(reduced, i)]), i));
    acc = cuda::block_reduce(acc, [](typename Op::State a, typename Op::State b) { return Op::merge(a, b); });
    if (threadIdx.x == 0) out[o] = Op::result(acc);
  }
}

constexpr int kColumns = 32, kRowGroups = 8;

// Folds the reduced elements [begin, end) of 32 neighbouring outputs per block into their
// states. blockIdx.y picks the slice of the reduced elements when there are few outputs and
// many rows to fold (a bias gradient: 768 outputs over 8192 rows), so that the grid fills the
// GPU; each slice then writes its partial states, and merge_slices_kernel folds them.
template <typename Op, typename T>
__global__ void __launch_bounds__(kColumns * kRowGroups)
    reduce_columns_kernel(cuda::Layout<1> kept, cuda::Layout<1> reduced, const T* x, int64_t slice,
                          typename Op::State* partials, typename Op::Result* out) {
  __shared__ typename Op::State partial[kRowGroups][kColumns + 1];
  const int64_t begin = static_cast<int64_t>(blockIdx.y) * slice;
  const int64_t end = begin + slice < reduced.numel ? begin + slice : reduced.numel;
  for (int64_t first = static_cast<int64_t>(blockIdx.x) * kColumns; first < kept.numel;
       first += static_cast<int64_t>(gridDim.x) * kColumns) {
    const int64_t o = first + threadIdx.x;
    typename Op::State acc = Op::init();
    if (o < kept.numel) {
      const T* base = x + offset_of(kept, o);
      for (int64_t i = begin + threadIdx.y; i < end; i += kRowGroups)
        acc = Op::merge(acc, Op::from(cuda::widen(base[offset_of(reduced, i)]), i));
    }
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && o < kept.numel) {
      for (int g = 1; g < kRowGroups; ++g) acc = Op::merge(acc, partial[g][threadIdx.x]);
      if (partials) partials[blockIdx.y * kept.numel + o] = acc;
      else out[o] = Op::result(acc);
    }
    __syncthreads();
  }
}

// out[o] = the merge of the slices' partial states of output o, in slice order.
template <typename Op>
__global__ void merge_slices_kernel(const typename Op::State* partials, int64_t slices, int64_t outputs,
                                    typename Op::Result* out) {
  const int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= outputs) return;
  typename Op::State acc = partials[o];
  for (int64_t s = 1; s < slices; ++s) acc = Op::merge(acc, partials[s * outputs + o]);
  out[o] = Op::result(acc);
}

struct ReduceLayout {
  cuda::Layout<1> kept;     // indexes the outputs in order (out is contiguous)
  cuda::Layout<1> reduced;  // the elements that fold into one output
};

ReduceLayout layout_of(const Tensor& x, const std::vector<int>& dims) {
  const auto s = host_checks::split_reduction(x, dims);
  return {cuda::make_layout<1>("reduce", s.kept_shape, {&s.kept_strides}),
          cuda::make_layout<1>("reduce", s.reduced_shape, {&s.reduced_strides})};
}

template <typename Op, typename T>
void run(const ReduceLayout& lay, const Tensor& x, const Tensor& out) {
  const T* src = static_cast<const T*>(x.data_ptr());
  auto* dst = static_cast<typename Op::Result*>(out.data_ptr());
  const cuda::Layout<1>&kept = lay.kept, &reduced = lay.reduced;
  const bool kept_innermost = kept.numel > 1 && (reduced.numel == 1 || kept.strides[0][kept.rank - 1] <
                                                                           reduced.strides[0][reduced.rank - 1]);
  if (kept_innermost) {
    const unsigned blocks = cuda::grid_for(kept.numel, kColumns);
    // Enough slices of at least 256 rows for ~4 blocks per multiprocessor.
    const int64_t want = std::max<int64_t>(1, 4 * cuda::multiprocessors() / std::max<unsigned>(blocks, 1));
    const int64_t slices = std::min<int64_t>(want, std::max<int64_t>(1, reduced.numel / 256));
    if (slices == 1) {
      reduce_columns_kernel<Op, T><<<blocks, dim3(kColumns, kRowGroups), 0, cuda::stream()>>>(
          kept, reduced, src, reduced.numel, nullptr, dst);
    } else {
      using State = typename Op::State;
      const int64_t slice = (reduced.numel + slices - 1) / slices;
      const int64_t bytes = slices * kept.numel * static_cast<int64_t>(sizeof(State));
      Tensor scratch = empty({bytes}, {.dtype = DType::Bool, .device = x.device()});
      auto* partials = static_cast<State*>(scratch.data_ptr());
      reduce_columns_kernel<Op, T><<<dim3(blocks, static_cast<unsigned>(slices)), dim3(kColumns, kRowGroups), 0,
                                     cuda::stream()>>>(kept, reduced, src, slice, partials, dst);
      CUDA_CHECK_LAUNCH();
      merge_slices_kernel<Op><<<cuda::grid_for(kept.numel, 256), 256, 0, cuda::stream()>>>(partials, slices,
                                                                                           kept.numel, dst);
    }
  } else {
    const unsigned blocks = cuda::grid_for(kept.numel, 1);
    reduce_runs_kernel<Op, T><<<blocks, cuda::kThreads, 0, cuda::stream()>>>(kept, reduced, src, dst);
  }
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void CudaBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int>& dims, const Tensor& out) {
  cuda::check_on_device("reduce", {&x, &out});
  const bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  check(!arg || dims.size() == 1, "reduce: argmax/argmin take exactly one dim, got ", dims.size(), " for shape ",
        x.shape());
  check(out.is_contiguous(), "reduce: output must be contiguous, got strides ", out.strides());
  const ReduceLayout lay = layout_of(x, dims);
  check(lay.reduced.numel > 0 || op == ReduceOp::Sum, "reduce: max/min/argmax/argmin of an empty dimension in shape ",
        x.shape());
  if (lay.kept.numel == 0) return;
  dispatch_all(x.dtype(), [&]<typename T>() {
    switch (op) {
      case ReduceOp::Sum: return run<SumOp<T>, T>(lay, x, out);
      case ReduceOp::Max: return run<ExtremumOp<T, true>, T>(lay, x, out);
      case ReduceOp::Min: return run<ExtremumOp<T, false>, T>(lay, x, out);
      case ReduceOp::ArgMax: return run<ArgExtremumOp<T, true>, T>(lay, x, out);
      case ReduceOp::ArgMin: return run<ArgExtremumOp<T, false>, T>(lay, x, out);
    }
  });
}

}  // namespace ember
