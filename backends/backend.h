#pragma once
// The backend interface: the small set of primitives every device implements.
// Kernels know nothing about autograd. Conventions, unless a method says otherwise:
// - `out` tensors are allocated by the caller, contiguous, with the documented shape, and come
//   after the tensors they are computed from (a tensor updated in place, as index_add's and
//   scatter_add's, too; fill, uniform and the optimizer steps have no such inputs);
// - inputs may have any strides (broadcast operands arrive as stride-0 views of out's shape);
// - all floating operands of one call share one dtype; indices are i64.
#include <cstdint>
#include <vector>

#include "backends/elementwise_ops.h"
#include "tensor/tensor.h"

namespace ember {

// The elementwise ops, generated from the one list of each in elementwise_ops.h (which the
// kernels of both backends and the tests also walk); their formulas are in
// elementwise_formulas.h.
enum class UnaryOp {
#define EMBER_ENUM_ENTRY(name, formula) name,
  EMBER_UNARY_OPS(EMBER_ENUM_ENTRY)
};
enum class BinaryOp {
  EMBER_BINARY_OPS(EMBER_ENUM_ENTRY)
#undef EMBER_ENUM_ENTRY
};

#define EMBER_COUNT_ENTRY(name, formula) +1
inline constexpr int kUnaryOpCount = 0 EMBER_UNARY_OPS(EMBER_COUNT_ENTRY);
inline constexpr int kBinaryOpCount = 0 EMBER_BINARY_OPS(EMBER_COUNT_ENTRY);
#undef EMBER_COUNT_ENTRY

// The ops that produce bool.
constexpr bool is_comparison(BinaryOp op) {
  return op == BinaryOp::Eq || op == BinaryOp::Ne || op == BinaryOp::Lt || op == BinaryOp::Le || op == BinaryOp::Gt ||
         op == BinaryOp::Ge;
}

enum class ReduceOp { Sum, Max, Min, ArgMax, ArgMin };

// Hyper-parameters of the fused optimizer steps (PyTorch's semantics).
struct SgdStep {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  bool first_step = false;  // the momentum buffer starts as the gradient itself
};
struct AdamStep {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled_weight_decay = false;  // AdamW
  int64_t step = 1;                     // 1-based, for bias correction
};

class Backend {
 public:
  virtual ~Backend() = default;

  // dst = src elementwise (same shape, any strides on both sides), converting dtypes.
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  // dst[...] = value (any strides).
  virtual void fill(const Tensor& dst, double value) = 0;

  // out = op(x) (floating; alpha/beta as documented by the op).
  virtual void unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha = 0, double beta = 0) = 0;
  // out = a op b; a and b have out's shape (broadcast views), same dtype; out is bool for comparisons.
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out = cond ? a : b; cond is bool; all have out's shape.
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) = 0;

  // Reduces x over `dims` (sorted, unique); out has x's shape with those dims set to 1.
  // ArgMax/ArgMin take exactly one dim and write i64.
  virtual void reduce(ReduceOp op, const Tensor& x, const std::vector<int>& dims, const Tensor& out) = 0;

  // out[b] = a[b] @ c[b] with a [B,M,K], c [B,K,N], out [B,M,N]. In a and c one of the last
  // two strides is 1 (a transposed operand is passed as a strided view, not copied); the
  // batch stride may be 0 (broadcast).
  virtual void matmul(const Tensor& a, const Tensor& c, const Tensor& out) = 0;

  // Row-wise (log-)softmax of a contiguous [R, C] tensor, and its backward
  // gx = y * (gy - sum(gy * y)) (softmax) or gy - exp(y) * sum(gy) (log-softmax).
  virtual void softmax(const Tensor& x, const Tensor& y, bool log) = 0;
  virtual void softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) = 0;

  // Layer norm over the last dim of a contiguous [R, C] tensor; weight/bias [C] may be undefined.
  // mean and rstd [R] are saved for the backward; gw/gb may be undefined when not needed.
  virtual void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                          const Tensor& mean, const Tensor& rstd) = 0;
  virtual void layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb) = 0;

  // Cross-entropy of contiguous logits [N, C] against i64 targets [N]: per-row loss [N]
  // (0 where target == ignore_index) and the row's logsumexp [N] for the backward.
  // With smoothing s the target distribution is (1 - s) one-hot + s / C. loss, lse and
  // grad_loss are in the logits' compute type (f32 for bf16 logits); glogits in the logits'.
  virtual void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index, double smoothing,
                             const Tensor& loss, const Tensor& lse) = 0;
  // glogits = grad_loss[n] * (softmax(logits) - target distribution), 0 on ignored rows.
  virtual void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                      const Tensor& grad_loss, int64_t ignore_index, double smoothing,
                                      const Tensor& glogits) = 0;

  // Index ops along `dim`. index is i64; out-of-range indices throw, naming the op.
  // index_select: out = x.index_select(dim, index[K]).  index_add: out.index_select(dim, index) += src.
  virtual void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) = 0;
  virtual void index_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) = 0;
  // gather: out[i][j] = x[index[i][j]][j] (dim 0 shown); index has out's shape.
  // scatter_add: out[index[i][j]][j] += src[i][j]; out is updated in place (any strides).
  virtual void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) = 0;
  virtual void scatter_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) = 0;

  // Fused optimizer updates, in place, on contiguous tensors of one shape and floating dtype.
  // momentum_buffer is undefined when momentum == 0.
  virtual void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& h) = 0;
  virtual void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                         const AdamStep& h) = 0;

  // out = uniform (0, 1] numbers from the Philox stream (key, offset), element i at counter i.
  virtual void uniform(const Tensor& out, uint64_t key, uint64_t offset) = 0;

  // Convolution and pooling (NCHW)
  // The geometry of a grouped, dilated 2-d convolution (conv1d runs as one with H = 1):
  // OH = (H + 2 pad_h - dilation_h (KH - 1) - 1) / stride_h + 1, likewise OW.
  struct Conv2dParams {
    int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1, groups = 1;
  };
  // y [N,O,OH,OW] = x [N,C,H,W] convolved with w [O,C/groups,KH,KW], plus bias [O] if defined.
  virtual void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
                      const Tensor& y) = 0;
  // gx [N,C,H,W] = the gradient of conv2d with respect to x, given gy [N,O,OH,OW].
  virtual void conv2d_backward_data(const Tensor& gy, const Tensor& w, const Conv2dParams& p, const Tensor& gx) = 0;
  // gw [O,C/groups,KH,KW] and, when defined, gb [O]: the gradients with respect to w and bias.
  virtual void conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Conv2dParams& p, const Tensor& gw,
                                      const Tensor& gb) = 0;
  // Pooling windows of x [N,C,H,W] into y [N,C,OH,OW]: fixed ones (OH = (H + 2 pad_h - kernel_h) /
  // stride_h + 1, padding at most half the kernel) or, when adaptive, output row i pooling input
  // rows [floor(i H / OH), ceil((i + 1) H / OH)) (kernel, stride, padding unused); likewise columns.
  struct Pool2dParams {
    int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
    bool adaptive = false;
  };
  // y = the max of each fixed window (padding never wins, NaN does); indices (i64, y's shape) =
  // where it is, as h * W + w in its plane. The backward writes all of gx: gy added at the indices.
  virtual void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y, const Tensor& indices) = 0;
  virtual void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Tensor& gx) = 0;
  // y = the mean of each window; a fixed window divides by kernel_h * kernel_w, padding included
  // (PyTorch's count_include_pad). The backward writes all of gx.
  virtual void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y) = 0;
  virtual void avg_pool2d_backward(const Tensor& gy, const Pool2dParams& p, const Tensor& gx) = 0;

  // Fused attention
  // Scaled dot-product attention, flash style, over q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,Dv]
  // (any strides, unit stride along the last dim). mask is undefined or a bool [B,H,Tq,Tk] view
  // (stride 0 where broadcast), true = attend; causal also hides key j from query i when j > i.
  // Writes out [B,H,Tq,Dv] (unit stride along the last dim, other strides free: heads
  // interleaved as a [B,Tq,H,Dv] buffer seen transposed, so that merging the heads is a view)
  // and lse [B,H,Tq] (contiguous), each row's logsumexp of the scaled, masked scores,
  // in the compute type (f64 for f64, f32 for f32 and bf16): -inf for a row that attends to no
  // key, whose out is 0. Dropout drops score (b H + h, i, j) of the virtual [B H, Tq, Tk] matrix,
  // element e = ((b H + h) Tq + i) Tk + j, when philox_uniform(seed, offset, e) <= dropout_p, and
  // scales the kept probabilities by 1 / (1 - dropout_p).
  struct AttentionParams {
    double scale = 1, dropout_p = 0;
    bool causal = false;
    uint64_t seed = 0, offset = 0;
  };
  virtual void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                         const AttentionParams& p, const Tensor& out, const Tensor& lse) = 0;
  // gq, gk, gv (shaped as q, k, v; unit stride along the last dim, other strides free, as out)
  // from gout [B,H,Tq,Dv] (likewise) and the forward's out and lse, recomputing the
  // probabilities tile by tile.
  virtual void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                  const Tensor& out, const Tensor& lse, const Tensor& gout, const AttentionParams& p,
                                  const Tensor& gq, const Tensor& gk, const Tensor& gv) = 0;

  // FFT long convolution
  // Causal convolution along the last dim of u [B,C,L] with per-channel filters k [C,K], K <= L,
  // plus a skip term D [C] (undefined = none): y[b,c,t] = sum_{s<=t, s<K} k[c,s] u[b,c,t-s] + D[c] u[b,c,t],
  // y [B,C,L]. Computed through FFTs of a length >= L + K - 1, so any L works. With `keep`, a
  // backend may leave there the transforms of u and k it computed, in its own layout, for
  // fft_conv_backward to reuse instead of transforming u and k again (the CUDA backend does; the
  // CPU backend keeps none). They cost memory: about one copy of u and of k each, in complex.
  struct FftSpectra {
    Tensor u, k;  // undefined: not kept
  };
  virtual void fft_conv(const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& y,
                        FftSpectra* keep = nullptr) = 0;
  // The gradients given gy [B,C,L], each written only when defined: gu [B,C,L] (gy correlated with
  // k, plus D gy), gk [C,K] (gy correlated with u, summed over the batch), gd [C] (sum of gy u).
  // `kept`: what fft_conv kept for these u and k (read only, so a backward may run twice).
  virtual void fft_conv_backward(const Tensor& gy, const Tensor& u, const Tensor& k, const Tensor& d,
                                 const Tensor& gu, const Tensor& gk, const Tensor& gd,
                                 const FftSpectra* kept = nullptr) = 0;
};

// The backend for a device (throws if this build has none for it).
Backend& backend_for(Device device);
void register_backend(DeviceType type, Backend* backend);

}  // namespace ember
