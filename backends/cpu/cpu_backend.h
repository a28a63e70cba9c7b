#pragma once
// The CPU backend: OpenMP-parallel loops, oneDNN for matmul where available.
// Each group of methods is defined in its own file in this folder.
#include "backends/backend.h"

namespace ember {

class CpuBackend final : public Backend {
 public:
  void copy(const Tensor& src, const Tensor& dst) override;                 // copy.cpp
  void fill(const Tensor& dst, double value) override;                      // copy.cpp
  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) override;  // unary.cpp
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;  // binary.cpp
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) override;  // binary.cpp
  void reduce(ReduceOp op, const Tensor& x, const std::vector<int>& dims, const Tensor& out) override;  // reduce.cpp
  void matmul(const Tensor& a, const Tensor& c, const Tensor& out) override;  // matmul.cpp
  void softmax(const Tensor& x, const Tensor& y, bool log) override;          // softmax.cpp
  void softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) override;
  void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                  const Tensor& mean, const Tensor& rstd) override;          // layer_norm.cpp
  void layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                           const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb) override;
  void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index, double smoothing,
                     const Tensor& loss, const Tensor& lse) override;       // cross_entropy.cpp
  void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                              const Tensor& grad_loss, int64_t ignore_index, double smoothing,
                              const Tensor& glogits) override;
  void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) override;  // index.cpp
  void index_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) override;
  void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) override;
  void scatter_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) override;
  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& h) override;  // optim.cpp
  void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const AdamStep& h) override;
  void uniform(const Tensor& out, uint64_t key, uint64_t offset) override;  // copy.cpp

  // Convolution and pooling (NCHW)
  void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
              const Tensor& y) override;  // conv.cpp
  void conv2d_backward_data(const Tensor& gy, const Tensor& w, const Conv2dParams& p, const Tensor& gx) override;
  void conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Conv2dParams& p, const Tensor& gw,
                              const Tensor& gb) override;
  void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y, const Tensor& indices) override;  // pool.cpp
  void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Tensor& gx) override;
  void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y) override;
  void avg_pool2d_backward(const Tensor& gy, const Pool2dParams& p, const Tensor& gx) override;

  // Fused attention
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const AttentionParams& p,
                 const Tensor& out, const Tensor& lse) override;  // attention.cpp
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Tensor& out,
                          const Tensor& lse, const Tensor& gout, const AttentionParams& p, const Tensor& gq,
                          const Tensor& gk, const Tensor& gv) override;

  // FFT long convolution
  // fft_conv.cpp; keeps no spectra (each backward transforms again)
  void fft_conv(const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& y, FftSpectra* keep) override;
  void fft_conv_backward(const Tensor& gy, const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& gu,
                         const Tensor& gk, const Tensor& gd, const FftSpectra* kept) override;
};

}  // namespace ember
