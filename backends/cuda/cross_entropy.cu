// Fused cross-entropy over contiguous [N, C] logits: the loss and its gradient come straight
// from the logits and the row's logsumexp, without materialising the probabilities.
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

// -sum_c q_c log p_c with q = (1 - s) one-hot + s / C, and log p_c = x_c - lse.
template <typename T>
__global__ void __launch_bounds__(cuda::kThreads)
    cross_entropy_kernel(const T* logits, Targets target, int64_t ignore_index, double smoothing, T* loss, T* lse,
                         int64_t rows, int64_t cols) {
  using C = compute_t<T>;
  const C s = static_cast<C>(smoothing);
  for (int64_t n = blockIdx.x; n < rows; n += gridDim.x) {
    const T* x = logits + n * cols;
    const C l = cuda::row_logsumexp(x, cols);
    const C sum_x = s != C(0) ? cuda::row_sum(x, cols) : C(0);
    if (threadIdx.x != 0) continue;
    lse[n] = cuda::narrow<T>(l);
    const int64_t t = target.at(n);
    if (t == ignore_index) {
      loss[n] = cuda::narrow<T>(C(0));
      continue;
    }
    loss[n] = cuda::narrow<T>(l - (C(1) - s) * cuda::widen(x[t]) - s / static_cast<C>(cols) * sum_x);
  }
}

// glogits = grad_loss[n] * (softmax(logits) - q), 0 on ignored rows; one thread per element.
template <typename T>
struct CrossEntropyBackwardFn {
  const T* logits;
  Targets target;
  const T* lse;
  const T* grad_loss;
  int64_t grad_stride, ignore_index, cols;
  compute_t<T> smoothing;
  T* glogits;
  __device__ void operator()(const int64_t (&off)[1]) const {
    using C = compute_t<T>;
    const int64_t n = off[0] / cols, c = off[0] % cols;
    const int64_t t = target.at(n);
    if (t == ignore_index) {
      glogits[off[0]] = cuda::narrow<T>(C(0));
      return;
    }
    const C scale = cuda::widen(grad_loss[n * grad_stride]);
    C g = std::exp(cuda::widen(logits[off[0]]) - cuda::widen(lse[n])) - smoothing / static_cast<C>(cols);
    if (c == t) g -= C(1) - smoothing;
    glogits[off[0]] = cuda::narrow<T>(scale * g);
  }
};

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
    cross_entropy_kernel<T><<<cuda::row_blocks(rows), cuda::kThreads, 0, cuda::stream()>>>(
        static_cast<const T*>(logits.data_ptr()), targets_of(target), ignore_index, smoothing,
        static_cast<T*>(loss.data_ptr()), static_cast<T*>(lse.data_ptr()), rows, cols);
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
  dispatch_floating(logits.dtype(), "cross_entropy_backward", [&]<typename T>() {
    cuda::launch_elementwise(cuda::range_layout(rows * cols),
                             CrossEntropyBackwardFn<T>{static_cast<const T*>(logits.data_ptr()), targets_of(target),
                                                       static_cast<const T*>(lse.data_ptr()),
                                                       static_cast<const T*>(grad_loss.data_ptr()), grad_loss.stride(0),
                                                       ignore_index, cols, static_cast<compute_t<T>>(smoothing),
                                                       static_cast<T*>(glogits.data_ptr())});
  });
}

}  // namespace ember
