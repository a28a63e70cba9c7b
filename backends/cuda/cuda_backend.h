#pragma once
// The CUDA backend: own kernels on one stream, cuBLAS for matmul, cuFFT for long convolutions.
// Each group of methods is defined in its own file in this folder (see README.md).
#include "backends/backend.h"
#include "tensor/storage.h"

namespace ember {

class CudaBackend final : public Backend {
 public:
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& dst, double value) override;
  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void reduce(ReduceOp op, const Tensor& x, const std::vector<int>& dims, const Tensor& out) override;
  void matmul(const Tensor& a, const Tensor& c, const Tensor& out) override;
  void softmax(const Tensor& x, const Tensor& y, bool log) override;
  void softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) override;
  void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                  const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                           const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb) override;
  void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index, double smoothing,
                     const Tensor& loss, const Tensor& lse) override;
  void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                              const Tensor& grad_loss, int64_t ignore_index, double smoothing,
                              const Tensor& glogits) override;
  void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) override;
  void index_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) override;
  void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) override;
  void scatter_add(const Tensor& src, int dim, const Tensor& index, const Tensor& out) override;
  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& h) override;
  void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const AdamStep& h) override;
  void uniform(const Tensor& out, uint64_t key, uint64_t offset) override;
  // Fused attention (attention.cu: tensor cores for bf16 with head dims 64 / 128)
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const AttentionParams& p,
                 const Tensor& out, const Tensor& lse) override;
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Tensor& out,
                          const Tensor& lse, const Tensor& gout, const AttentionParams& p, const Tensor& gq,
                          const Tensor& gk, const Tensor& gv) override;
  // Convolution and pooling (NCHW): conv.cu (im2col + cuBLAS), pool.cu
  void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
              const Tensor& y) override;
  void conv2d_backward_data(const Tensor& gy, const Tensor& w, const Conv2dParams& p, const Tensor& gx) override;
  void conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Conv2dParams& p, const Tensor& gw,
                              const Tensor& gb) override;
  void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y, const Tensor& indices) override;
  void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Tensor& gx) override;
  void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& y) override;
  void avg_pool2d_backward(const Tensor& gy, const Pool2dParams& p, const Tensor& gx) override;
  // FFT long convolution: fft_conv.cu (cuFFT, plans in fft_plan.cpp); keeps the padded spectra
  void fft_conv(const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& y, FftSpectra* keep) override;
  void fft_conv_backward(const Tensor& gy, const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& gu,
                         const Tensor& gk, const Tensor& gd, const FftSpectra* kept) override;
};

namespace cuda {
// The backend's instances (never destroyed); register.cpp hands them to the registries.
DeviceAllocator& allocator();
Backend& backend();
// Registers backend() and allocator() for DeviceType::CUDA (called by initialize_devices()).
void register_cuda_backend();
// Sets count elements of element_size bytes (1, 2, 4 or 8) at dst to *element, on the stream
// (a memset for zeros); the allocator's fill (copy.cu).
void fill_elements(void* dst, size_t count, size_t element_size, const void* element);
}  // namespace cuda

}  // namespace ember
