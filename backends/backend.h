#pragma once
// The backend interface: the small set of primitives every device implements.
// Kernels know nothing about autograd. Conventions, unless a method says otherwise:
// - `out` tensors are allocated by the caller, contiguous, with the documented shape;
// - inputs may have any strides (broadcast operands arrive as stride-0 views of out's shape);
// - all floating operands of one call share one dtype; indices are i64.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ember {

enum class UnaryOp {
  Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Reciprocal, Square, Erf,
  Relu, Sigmoid, Tanh, Sin, Cos, GeluErf, GeluTanh, Silu, Softplus,
  Affine,     // alpha * x + beta
  PowScalar,  // x ^ alpha
  Clamp,      // min(max(x, alpha), beta)
  LeakyRelu,  // x > 0 ? x : alpha * x
};

enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum,
  Eq, Ne, Lt, Le, Gt, Ge,  // produce bool
};

inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

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
  // With smoothing s the target distribution is (1 - s) one-hot + s / C.
  virtual void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index, double smoothing,
                             const Tensor& loss, const Tensor& lse) = 0;
  // glogits = grad_loss[n] * (softmax(logits) - target distribution), 0 on ignored rows.
  virtual void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                      const Tensor& grad_loss, int64_t ignore_index, double smoothing,
                                      const Tensor& glogits) = 0;

  // Index ops along `dim`. index is i64; out-of-range indices throw, naming the op.
  // index_select: out = x.index_select(dim, index[K]).  index_add: out.index_select(dim, index) += src.
  virtual void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) = 0;
  virtual void index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) = 0;
  // gather: out[i][j] = x[index[i][j]][j] (dim 0 shown); index has out's shape.
  // scatter_add: out[index[i][j]][j] += src[i][j]; out is updated in place (any strides).
  virtual void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) = 0;
  virtual void scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) = 0;

  // Fused optimizer updates, in place, on contiguous tensors of one shape and floating dtype.
  // momentum_buffer is undefined when momentum == 0.
  virtual void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& h) = 0;
  virtual void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                         const AdamStep& h) = 0;

  // out = uniform (0, 1] numbers from the Philox stream (key, offset), element i at counter i.
  virtual void uniform(const Tensor& out, uint64_t key, uint64_t offset) = 0;
};

// The backend for a device (throws if this build has none for it).
Backend& backend_for(Device device);
void register_backend(DeviceType type, Backend* backend);

}  // namespace ember
