#pragma once
// Normalisation layers: BatchNorm1d / BatchNorm2d (running statistics as buffers), LayerNorm
// and GroupNorm. Affine weights start at 1 and biases at 0, as in PyTorch.
#include "nn/module.h"

namespace ember::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;  // running = (1 - momentum) running + momentum batch
  bool affine = true;     // learnable per-channel weight and bias
  bool track_running_stats = true;  // buffers running_mean / running_var, used in eval()
};

// Training mode normalises with the batch statistics and updates the running ones; eval mode
// uses the running statistics (or the batch's when they are not tracked).
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }

 protected:
  // Inputs have min_rank..max_rank dims, channels at dim 1; `layout` names them in errors.
  BatchNorm(const char* type, int64_t num_features, BatchNormOptions options, int64_t min_rank, int64_t max_rank,
            const char* layout);

 private:
  int64_t num_features_;
  BatchNormOptions options_;
  int64_t min_rank_, max_rank_;
  const char* layout_;
  Tensor weight_, bias_, running_mean_, running_var_;
};

// Over [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {});
};

// Over [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {});
};

// Normalises over the trailing dims given by normalized_shape.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  Shape normalized_shape_;
  double eps_;
  Tensor weight_, bias_;
};

// Normalises each of num_groups groups of channels of [N, C, ...] over its channels and positions.
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  int64_t num_groups_, num_channels_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace ember::nn
