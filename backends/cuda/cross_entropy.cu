// Fused cross-entropy over contiguous [N, C] logits: the loss and its gradient come straight
// from the logits and the row's logsumexp, without materialising the probabilities. bf16
// logits are read as they are (no f32 copy) and computed in f32; loss and logsumexp are f32.
#include <initializer_list>
#include <limits>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/index_check.h"
#include "backends/cuda/rows.cuh"

namespace ember {
namespace {

struct Targets {
  const int64_t* data;
  int64_t stride;
  __device__ int64_t at(int64_t n) const { return data[n * stride]; }
};

// A row's running max and sum of exp(x - max): logsumexp in one pass over the row.
template <typename C>
struct MaxSum {
  C m, s;
};

template <typename C>
__device__ __forceinline__ MaxSum<C> merge(MaxSum<C> a, MaxSum<C> b) {
  if (b.m == -std::numeric_limits<C>::infinity()) return a;
  if (a.m == -std::numeric_limits<C>::infinity()) return b;
  const C m = a.m > b.m ? a.m : b.m;
  return {m, a.s * std::exp(a.m - m) + b.s * std::exp(b.m - m)};
}

template <typename C>
__device__ __forceinline__ void add(MaxSum<C>& acc, C x, C& sum_x) {
  if (x > acc.m) {
    acc.s = acc.s * std::exp(acc.m - x) + C(1);
    acc.m = x;
  } else if (acc.m != -std::numeric_limits<C>::infinity()) {  // else x is -inf too: adds nothing
    acc.s += std::exp(x - acc.m);
  }
  sum_x += x;
}

// Whether a row kernel may read and write 4 elements at once: rows of a multiple of 4 elements
// on aligned pointers.
template <typename T>
bool rows_vectorizable(int64_t cols, const T* a, const T* b = nullptr) {
  return cols % 4 == 0 && cuda::aligned4(a) && (b == nullptr || cuda::aligned4(b));
}

// -sum_c q_c log p_c with q = (1 - s) one-hot + s / C, and log p_c = x_c - lse, in the compute
// type C (f32 for bf16 logits): one read of the row (a running max and sum).
template <typename T, typename C>
__global__ void __launch_bounds__(cuda::kThreads)
    cross_entropy_kernel(const T* logits, Targets target, int64_t ignore_index, C smoothing, C* loss, C* lse,
                         int64_t rows, int64_t cols, bool vec) {
  for (int64_t n = blockIdx.x; n < rows; n += gridDim.x) {
    const T* x = logits + n * cols;
    MaxSum<C> acc{-std::numeric_limits<C>::infinity(), C(0)};
    C sum_x = 0;
    if (vec) {
      for (int64_t i = 4 * threadIdx.x; i < cols; i += 4 * blockDim.x) {
        const cuda::Pack4<T> v = cuda::load4(x + i);
#pragma unroll
        for (int j = 0; j < 4; ++j) add(acc, cuda::widen(v.v[j]), sum_x);
      }
    } else {
      for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) add(acc, cuda::widen(x[i]), sum_x);
    }
    acc = cuda::block_reduce(acc, [](MaxSum<C> a, MaxSum<C> b) { return merge(a, b); });
    if (smoothing != C(0)) sum_x = cuda::block_sum(sum_x);
    if (threadIdx.x != 0) continue;
    const C l = acc.m + std::log(acc.s);
    lse[n] = l;
    const int64_t t = target.at(n);
    if (t == ignore_index) {
      loss[n] = C(0);
      continue;
    }
    loss[n] = l - (C(1) - smoothing) * cuda::widen(x[t]) - smoothing / static_cast<C>(cols) * sum_x;
  }
}

// glogits = grad_loss[n] * (softmax(logits) - q), 0 on ignored rows: a block per row.
template <typename T, typename C>
__global__ void __launch_bounds__(cuda::kThreads)
    cross_entropy_backward_kernel(const T* logits, Targets target, const C* lse, const C* grad_loss,
                                  int64_t grad_stride, int64_t ignore_index, C smoothing, T* glogits, int64_t rows,
                                  int64_t cols, bool vec) {
  const C uniform = smoothing / static_cast<C>(cols);
  for (int64_t n = blockIdx.x; n < rows; n += gridDim.x) {
    const T* x = logits + n * cols;
    T* g = glogits + n * cols;
    const int64_t t = target.at(n);
    const bool ignored = t == ignore_index;
    const C scale = ignored ? C(0) : grad_loss[n * grad_stride], l = lse[n];
    auto value = [&](C xi, int64_t i) {
      if (ignored) return C(0);
      C v = std::exp(xi - l) - uniform;
      if (i == t) v -= C(1) - smoothing;
      return scale * v;
    };
    if (vec) {
      for (int64_t i = 4 * threadIdx.x; i < cols; i += 4 * blockDim.x) {
        const cuda::Pack4<T> v = cuda::load4(x + i);
        cuda::Pack4<T> r;
#pragma unroll
        for (int j = 0; j < 4; ++j) r.v[j] = cuda::narrow<T>(value(cuda::widen(v.v[j]), i + j));
        cuda::store4(g + i, r);
      }
    } else {
      for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) g[i] = cuda::narrow<T>(value(cuda::widen(x[i]), i));
    }
  }
}

void check_operands(const Tensor& logits, const Tensor& target) {
  check(logits.is_contiguous() && logits.dim() == 2, "cross_entropy: expected contiguous [N, C] logits, got ",
        logits.shape());
  check(target.dtype() == DType::I64 && target.dim() == 1 && target.size(0) == logits.size(0),
        "cross_entropy: expected i64 targets [", logits.size(0), "], got ", target.dtype(), " ", target.shape());
}

// Throws before any kernel reads a row through a bad target, naming the first one.
void check_targets(const Tensor& target, int64_t cols, int64_t ignore_index) {
  const cuda::IndexRange range = cuda::index_range(target, ignore_index);
  if (range.lo > range.hi || (range.lo >= 0 && range.hi < cols)) return;
  const std::vector<int64_t> targets = target.to_vector<int64_t>();
  for (size_t n = 0; n < targets.size(); ++n)
    if (targets[n] != ignore_index && (targets[n] < 0 || targets[n] >= cols))
      fail("cross_entropy: target ", targets[n], " at row ", n, " is out of range for ", cols, " classes");
}

// loss, lse and the loss gradient are in the compute type: f32 for bf16 logits.
template <typename C>
void check_compute_dtype(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    check(t->dtype() == dtype_of<C>::value, op, ": expected ", dtype_of<C>::value, " loss, logsumexp and loss gradient, got ",
          t->dtype());
}

Targets targets_of(const Tensor& target) { return {static_cast<const int64_t*>(target.data_ptr()), target.stride(0)}; }

}  // namespace

void CudaBackend::cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index, double smoothing,
                                const Tensor& loss, const Tensor& lse) {
  check_operands(logits, target);
  cuda::check_on_device("cross_entropy", {&logits, &target, &loss, &lse});
  const int64_t rows = logits.size(0), cols = logits.size(1);
  check(loss.is_contiguous() && lse.is_contiguous() && loss.numel() == rows && lse.numel() == rows,
        "cross_entropy: expected contiguous [", rows, "] loss and lse, got ", loss.shape(), " and ", lse.shape());
  if (rows == 0) return;
  check_targets(target, cols, ignore_index);
  dispatch_floating(logits.dtype(), "cross_entropy", [&]<typename T>() {
    using C = compute_t<T>;
    check_compute_dtype<C>("cross_entropy", {&loss, &lse});
    const T* x = static_cast<const T*>(logits.data_ptr());
    cross_entropy_kernel<T, C><<<cuda::row_blocks(rows), cuda::kThreads, 0, cuda::stream()>>>(
        x, targets_of(target), ignore_index, static_cast<C>(smoothing), static_cast<C*>(loss.data_ptr()),
        static_cast<C*>(lse.data_ptr()), rows, cols, rows_vectorizable(cols, x));
    CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                         const Tensor& grad_loss, int64_t ignore_index, double smoothing,
                                         const Tensor& glogits) {
  check_operands(logits, target);
  cuda::check_on_device("cross_entropy_backward", {&logits, &target, &lse, &grad_loss, &glogits});
  const int64_t rows = logits.size(0), cols = logits.size(1);
  check(glogits.is_contiguous() && glogits.shape() == logits.shape(), "cross_entropy_backward: expected a contiguous ",
        logits.shape(), " gradient, got ", glogits.shape());
  check(lse.is_contiguous() && lse.numel() == rows && grad_loss.dim() == 1 && grad_loss.size(0) == rows,
        "cross_entropy_backward: expected [", rows, "] lse and loss gradient, got ", lse.shape(), " and ",
        grad_loss.shape());
  check(glogits.dtype() == logits.dtype(), "cross_entropy_backward: gradient ", glogits.dtype(), " for ",
        logits.dtype(), " logits");
  if (rows == 0) return;
  dispatch_floating(logits.dtype(), "cross_entropy_backward", [&]<typename T>() {
    using C = compute_t<T>;
    check_compute_dtype<C>("cross_entropy_backward", {&lse, &grad_loss});
    const T* x = static_cast<const T*>(logits.data_ptr());
    T* g = static_cast<T*>(glogits.data_ptr());
    cross_entropy_backward_kernel<T, C><<<cuda::row_blocks(rows), cuda::kThreads, 0, cuda::stream()>>>(
        x, targets_of(target), static_cast<const C*>(lse.data_ptr()), static_cast<const C*>(grad_loss.data_ptr()),
        grad_loss.stride(0), ignore_index, static_cast<C>(smoothing), g, rows, cols, rows_vectorizable(cols, x, g));
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ember
