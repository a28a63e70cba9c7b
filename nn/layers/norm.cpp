#include "nn/layers/norm.h"

#include "autograd/functional.h"
#include "autograd/norm_ops.h"
#include "nn/layers/support.h"
#include "tensor/creation.h"

namespace ember::nn {

BatchNorm::BatchNorm(const char* type, int64_t num_features, BatchNormOptions options, int64_t min_rank,
                     int64_t max_rank, const char* layout)
    : Module(describe_call(type, num_features, options.affine ? "" : "affine=false",
                           options.track_running_stats ? "" : "track_running_stats=false")),
      num_features_(num_features),
      options_(options),
      min_rank_(min_rank),
      max_rank_(max_rank),
      layout_(layout) {
  check_positive(describe(), {num_features});
  check(options.momentum >= 0 && options.momentum <= 1 && options.eps > 0, describe(),
        ": needs 0 <= momentum <= 1 and eps > 0");
  if (options.affine) {
    weight_ = register_parameter("weight", ones({num_features}));
    bias_ = register_parameter("bias", zeros({num_features}));
  }
  if (options.track_running_stats) {
    running_mean_ = register_buffer("running_mean", zeros({num_features}));
    running_var_ = register_buffer("running_var", ones({num_features}));
  }
}

Tensor BatchNorm::forward(const Tensor& x) {
  check(x.dim() >= min_rank_ && x.dim() <= max_rank_, describe(), ": input ", x.shape(), " must be ", layout_);
  check_input(describe(), x, x.dim(), layout_, num_features_);
  return batch_norm(x, running_mean_, running_var_, weight_, bias_, is_training(), options_.momentum, options_.eps);
}

BatchNorm1d::BatchNorm1d(int64_t num_features, BatchNormOptions options)
    : BatchNorm("BatchNorm1d", num_features, options, 2, 3, "[N,C] or [N,C,L]") {}

BatchNorm2d::BatchNorm2d(int64_t num_features, BatchNormOptions options)
    : BatchNorm("BatchNorm2d", num_features, options, 4, 4, "[N,C,H,W]") {}

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine)
    : Module(describe_call("LayerNorm", normalized_shape, elementwise_affine ? "" : "elementwise_affine=false")),
      normalized_shape_(std::move(normalized_shape)),
      eps_(eps) {
  check(!normalized_shape_.empty(), describe(), ": normalized_shape must have at least one dim");
  for (int64_t s : normalized_shape_) check_positive(describe(), {s});
  if (elementwise_affine) {
    weight_ = register_parameter("weight", ones(normalized_shape_));
    bias_ = register_parameter("bias", zeros(normalized_shape_));
  }
}

Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, normalized_shape_, weight_, bias_, eps_); }

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, double eps, bool affine)
    : Module(describe_call("GroupNorm", num_groups, num_channels, affine ? "" : "affine=false")),
      num_groups_(num_groups),
      num_channels_(num_channels),
      eps_(eps) {
  check_positive(describe(), {num_groups, num_channels});
  check(num_channels % num_groups == 0, describe(), ": channels must be divisible by groups");
  if (affine) {
    weight_ = register_parameter("weight", ones({num_channels}));
    bias_ = register_parameter("bias", zeros({num_channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  check(x.dim() >= 2, describe(), ": input ", x.shape(), " must be [N,C,...]");
  check_input(describe(), x, x.dim(), "[N,C,...]", num_channels_);
  return group_norm(x, num_groups_, weight_, bias_, eps_);
}

}  // namespace ember::nn
