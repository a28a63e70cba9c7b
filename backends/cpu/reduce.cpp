// Reductions: sum, max, min, argmax, argmin over any set of dims.
//
// The kept dims and the reduced dims are collapsed separately, then one of two loops runs,
// chosen so that the innermost loop reads memory in order:
// - along runs, when a reduced dim is innermost (x.sum(-1), full reductions): every output
//   reduces contiguous runs with several vector accumulators; when there are fewer outputs
//   than threads (a reduction to a scalar), each output's elements are split across threads;
// - down columns, when a kept dim is innermost (x.sum(0) of [N, C], a bias gradient): the
//   rows are accumulated into a block of C partial results, vectorised along C, parallel over
//   column blocks (and over row ranges when there are too few blocks for the threads).
// Max and min propagate NaN, as in PyTorch; argmax/argmin return the first extremum.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <memory>
#include <type_traits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided.h"
#include "backends/host_checks.h"
#include "tensor/creation.h"

namespace ember {
namespace {

// Below this many elements a thread's share of one reduction is not worth splitting off.
constexpr int64_t kMinSplit = 16384;
// Sums are formed in blocks of this many elements before being added up, which bounds the
// rounding error of long f32 sums (a cheap form of pairwise summation).
constexpr int64_t kSumBlock = 4096;
// Widest block of columns whose partial results the column loop keeps (in L1 for f32).
constexpr int64_t kColumnBlock = 4096;

// Collapsed dims, outermost first (at least one dim).
struct Group {
  Shape shape;
  Strides strides;

  int64_t numel() const { return numel_of(shape); }
  int64_t offset(int64_t linear) const {
    if (shape.size() == 1) return linear * strides[0];
    int64_t off = 0;
    for (size_t d = shape.size(); d-- > 0;) {
      off += (linear % shape[d]) * strides[d];
      linear /= shape[d];
    }
    return off;
  }
};

Group collapsed(const Shape& shape, const Strides& strides) {
  auto c = cpu::collapse<1>(shape, {&strides});
  return {c.shape, c.strides[0]};
}

struct Layout {
  Group kept;     // indexes the outputs in order (out is contiguous)
  Group reduced;  // the elements that fold into one output
};

Layout layout_of(const Tensor& x, const std::vector<int>& dims) {
  const auto s = host_checks::split_reduction(x, dims);
  return {collapsed(s.kept_shape, s.kept_strides), collapsed(s.reduced_shape, s.reduced_strides)};
}

template <typename C>
bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  else return false;
}

template <typename C>
struct SumOp {
  static C init() { return C(0); }
  static C combine(C acc, C v) { return static_cast<C>(acc + v); }
};

template <typename C, bool Max>
struct ExtremumOp {
  static C init() {
    using L = std::numeric_limits<C>;
    if constexpr (L::has_infinity) return Max ? -L::infinity() : L::infinity();
    else return Max ? L::lowest() : L::max();
  }
  // NaN beats everything, so that it propagates.
  static bool better(C v, C acc) { return (Max ? v > acc : v < acc) || is_nan(v); }
  static C combine(C acc, C v) { return better(v, acc) ? v : acc; }
};

// Folds runs of elements into one result. Runs of at least kLanes elements go through
// kLanes independent accumulators (four 512-bit vectors), which vectorise and hide the
// latency of each combine; the lanes are folded into the total every kSumBlock elements.
template <typename Op, typename T>
class Accumulator {
 public:
  using C = compute_t<T>;

  void add(const T* p, int64_t n, int64_t stride) {
    if (n < kLanes) {
      for (int64_t i = 0; i < n; ++i) total_ = Op::combine(total_, static_cast<C>(p[i * stride]));
    } else if (stride == 1) {
      add_to_lanes(p, n, std::integral_constant<int64_t, 1>{});
    } else {
      add_to_lanes(p, n, stride);
    }
  }

  C result() {
    flush();
    return total_;
  }

 private:
  static constexpr int64_t kLanes = 256 / static_cast<int64_t>(sizeof(C));

  template <typename Stride>
  void add_to_lanes(const T* p, int64_t n, Stride stride) {
    if (pending_ < 0) reset_lanes();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int64_t l = 0; l < kLanes; ++l) lanes_[l] = Op::combine(lanes_[l], static_cast<C>(p[(i + l) * stride]));
      pending_ += kLanes;
      if (pending_ >= kSumBlock) flush();
    }
    pending_ += n - i;
    for (int64_t l = 0; i < n; ++i, ++l) lanes_[l] = Op::combine(lanes_[l], static_cast<C>(p[i * stride]));
  }

  void reset_lanes() {
    std::fill(lanes_, lanes_ + kLanes, Op::init());
    pending_ = 0;
  }

  void flush() {
    if (pending_ <= 0) return;
    // Halving folds vectorise, where a chain of kLanes dependent combines would not.
    for (int64_t width = kLanes / 2; width > 0; width /= 2)
      for (int64_t l = 0; l < width; ++l) lanes_[l] = Op::combine(lanes_[l], lanes_[l + width]);
    total_ = Op::combine(total_, lanes_[0]);
    reset_lanes();
  }

  C lanes_[kLanes];
  C total_ = Op::init();
  int64_t pending_ = -1;  // elements in the lanes since they were last folded; -1: lanes unset
};

int threads_for(bool parallel) { return parallel ? omp_get_max_threads() : 1; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Pieces to split each of `items` work items into so that every thread gets work, keeping
// each piece at least kMinSplit elements.
int64_t splits_for(int64_t items, int64_t elements_per_item, int threads) {
  if (items >= threads) return 1;
  return std::clamp<int64_t>(elements_per_item / kMinSplit, 1, ceil_div(threads, items));
}

// out[o] = the combination of partial[s * outputs + o] over the splits s.
template <typename Op, typename T>
void combine_splits(const std::vector<compute_t<T>>& partial, int64_t splits, int64_t outputs, T* out) {
  for (int64_t o = 0; o < outputs; ++o) {
    compute_t<T> acc = Op::init();
    for (int64_t s = 0; s < splits; ++s) acc = Op::combine(acc, partial[static_cast<size_t>(s * outputs + o)]);
    out[o] = static_cast<T>(acc);
  }
}

template <typename Op, typename T>
void reduce_along_runs(const Layout& lay, const T* x, T* out, bool parallel) {
  using C = compute_t<T>;
  const int64_t outputs = lay.kept.numel(), count = lay.reduced.numel();
  const int64_t run = lay.reduced.shape.back(), stride = lay.reduced.strides.back();
  const int threads = threads_for(parallel);
  const int64_t splits = splits_for(outputs, count, threads);
  std::vector<C> partial(splits > 1 ? static_cast<size_t>(outputs * splits) : 0);

#pragma omp parallel for schedule(static) if (threads > 1)
  for (int64_t item = 0; item < outputs * splits; ++item) {
    const int64_t o = item / splits, s = item % splits;
    const int64_t begin = count * s / splits, end = count * (s + 1) / splits;
    const T* base = x + lay.kept.offset(o);
    Accumulator<Op, T> accumulator;
    for (int64_t i = begin; i < end;) {
      const int64_t pos = i % run, n = std::min(run - pos, end - i);
      accumulator.add(base + lay.reduced.offset(i - pos) + pos * stride, n, stride);
      i += n;
    }
    const C acc = accumulator.result();
    if (splits == 1) out[o] = static_cast<T>(acc);
    else partial[static_cast<size_t>(s * outputs + o)] = acc;
  }
  if (splits > 1) combine_splits<Op>(partial, splits, outputs, out);
}

template <typename Op, typename T>
void reduce_down_columns(const Layout& lay, const T* x, T* out, bool parallel) {
  using C = compute_t<T>;
  const int64_t cols = lay.kept.shape.back(), col_stride = lay.kept.strides.back();
  const int64_t planes = lay.kept.numel() / cols, rows = lay.reduced.numel();
  const int threads = threads_for(parallel);
  // Column blocks: one per thread where the rows are wide enough (cache-line multiples, at
  // least a few vectors wide); otherwise the threads also share the rows, each range with
  // its own partial results.
  const int64_t width =
      std::min(cols, std::clamp<int64_t>(ceil_div(ceil_div(cols, threads), 16) * 16, 64, kColumnBlock));
  const int64_t blocks = ceil_div(cols, width);
  const int64_t splits = splits_for(planes * blocks, rows * width, threads);
  std::vector<C> partial(splits > 1 ? static_cast<size_t>(splits * planes * cols) : 0);

#pragma omp parallel if (threads > 1)
  {
    // Per row range, the sum of each kSumBlock rows is formed apart (pairwise-style).
    auto scratch = std::make_unique<C[]>(static_cast<size_t>(2 * width));
    C* tot = scratch.get();
    C* blk = tot + width;
#pragma omp for schedule(static)
    for (int64_t item = 0; item < planes * blocks * splits; ++item) {
      const int64_t s = item % splits, b = item / splits % blocks, p = item / splits / blocks;
      const int64_t c0 = b * width, n = std::min(width, cols - c0), end = rows * (s + 1) / splits;
      const T* base = x + lay.kept.offset(p * cols) + c0 * col_stride;
      std::fill(tot, tot + n, Op::init());
      for (int64_t r0 = rows * s / splits; r0 < end; r0 += kSumBlock) {
        std::fill(blk, blk + n, Op::init());
        const int64_t r1 = std::min(end, r0 + kSumBlock);
        int64_t r = r0;
        // Four rows per pass: a quarter of the loads and stores of the partial results.
        for (; col_stride == 1 && r + 4 <= r1; r += 4) {
          const T* a = base + lay.reduced.offset(r);
          const T* b = base + lay.reduced.offset(r + 1);
          const T* c = base + lay.reduced.offset(r + 2);
          const T* d = base + lay.reduced.offset(r + 3);
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) {
            const C ab = Op::combine(static_cast<C>(a[j]), static_cast<C>(b[j]));
            const C cd = Op::combine(static_cast<C>(c[j]), static_cast<C>(d[j]));
            blk[j] = Op::combine(blk[j], Op::combine(ab, cd));
          }
        }
        for (; r < r1; ++r) {
          const T* row = base + lay.reduced.offset(r);
          for (int64_t j = 0; j < n; ++j) blk[j] = Op::combine(blk[j], static_cast<C>(row[j * col_stride]));
        }
        for (int64_t j = 0; j < n; ++j) tot[j] = Op::combine(tot[j], blk[j]);
      }
      const int64_t first = p * cols + c0;
      if (splits == 1) {
        for (int64_t j = 0; j < n; ++j) out[first + j] = static_cast<T>(tot[j]);
      } else {
        std::copy(tot, tot + n, partial.begin() + (s * planes * cols + first));
      }
    }
  }
  if (splits > 1) combine_splits<Op>(partial, splits, planes * cols, out);
}

template <typename Op, typename T>
void reduce_values(const Layout& lay, const T* x, T* out, bool parallel) {
  const bool kept_innermost =
      lay.kept.numel() > 1 && (lay.reduced.numel() == 1 || lay.kept.strides.back() < lay.reduced.strides.back());
  if (kept_innermost) reduce_down_columns<Op>(lay, x, out, parallel);
  else reduce_along_runs<Op>(lay, x, out, parallel);
}

// The index of the first extremum (the first NaN if any) along the single reduced dim.
template <typename T, bool Max>
void arg_extremum(const Layout& lay, const T* x, int64_t* out, bool parallel) {
  using C = compute_t<T>;
  const int64_t outputs = lay.kept.numel(), n = lay.reduced.numel(), stride = lay.reduced.strides.back();
#pragma omp parallel for schedule(static) if (parallel && outputs > 1)
  for (int64_t o = 0; o < outputs; ++o) {
    const T* row = x + lay.kept.offset(o);
    C best = static_cast<C>(row[0]);
    int64_t best_i = 0;
    for (int64_t i = 1; i < n && !is_nan(best); ++i) {
      const C v = static_cast<C>(row[i * stride]);
      if (ExtremumOp<C, Max>::better(v, best)) {
        best = v;
        best_i = i;
      }
    }
    out[o] = best_i;
  }
}

// The reduced dims whose stride is above the smallest stride of a kept dim (size-1 dims
// ignored), when there are also reduced dims below it; empty otherwise.
std::vector<int> far_dims(const Tensor& x, const std::vector<int>& dims) {
  int64_t smallest_kept = -1;
  for (size_t d = 0; d < x.shape().size(); ++d)
    if (x.shape()[d] > 1 && !std::binary_search(dims.begin(), dims.end(), static_cast<int>(d)))
      smallest_kept = smallest_kept < 0 ? x.strides()[d] : std::min(smallest_kept, x.strides()[d]);
  std::vector<int> far;
  bool near = false;
  for (int d : dims) {
    if (x.shape()[static_cast<size_t>(d)] <= 1) continue;
    if (x.strides()[static_cast<size_t>(d)] > smallest_kept) far.push_back(d);
    else near = true;
  }
  if (smallest_kept < 0 || !near) far.clear();
  return far;
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int>& dims, const Tensor& out) {
  const bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  check(!arg || dims.size() == 1, "reduce: argmax/argmin take exactly one dim, got ", dims.size(), " for shape ",
        x.shape());
  const Layout lay = layout_of(x, dims);
  check(lay.reduced.numel() > 0 || op == ReduceOp::Sum, "reduce: max/min/argmax/argmin of an empty dimension in shape ",
        x.shape());
  if (lay.kept.numel() == 0) return;
  // Reduced dims on both sides of a kept dim (the (0, 2, 3) reduction of an NCHW tensor): a
  // single pass would jump through memory; reduce the far dims first, reading memory in order,
  // into a much smaller tensor, then the near ones.
  if (std::vector<int> far = arg ? std::vector<int>{} : far_dims(x, dims); !far.empty()) {
    Shape partial_shape = x.shape();
    for (int d : far) partial_shape[static_cast<size_t>(d)] = 1;
    Tensor partial = empty(partial_shape, {.dtype = x.dtype(), .device = x.device()});
    reduce(op, x, far, partial);
    std::vector<int> near;
    std::set_difference(dims.begin(), dims.end(), far.begin(), far.end(), std::back_inserter(near));
    reduce(op, partial, near, out);
    return;
  }
  const bool parallel = x.numel() >= cpu::kParallelGrain;
  dispatch_all(x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    const T* src = static_cast<const T*>(x.data_ptr());
    switch (op) {
      case ReduceOp::Sum: return reduce_values<SumOp<C>>(lay, src, out.data<T>(), parallel);
      case ReduceOp::Max: return reduce_values<ExtremumOp<C, true>>(lay, src, out.data<T>(), parallel);
      case ReduceOp::Min: return reduce_values<ExtremumOp<C, false>>(lay, src, out.data<T>(), parallel);
      case ReduceOp::ArgMax: return arg_extremum<T, true>(lay, src, out.data<int64_t>(), parallel);
      case ReduceOp::ArgMin: return arg_extremum<T, false>(lay, src, out.data<int64_t>(), parallel);
    }
  });
}

}  // namespace ember
