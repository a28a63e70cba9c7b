#include "nn/layers/linear.h"

#include "autograd/linalg.h"
#include "nn/init.h"
#include "nn/layers/support.h"
#include "tensor/creation.h"

namespace ember::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : Module(describe_call("Linear", in_features, out_features, bias ? "" : "bias=false")), in_features_(in_features) {
  check_positive(describe(), {in_features, out_features});
  weight_ = register_parameter("weight", empty({out_features, in_features}));
  if (bias) bias_ = register_parameter("bias", empty({out_features}));
  init::default_affine_(weight_, bias_);
}

Tensor Linear::forward(const Tensor& x) {
  check(x.dim() >= 1 && x.size(-1) == in_features_, describe(), ": input ", x.shape(), " must end in ", in_features_,
        " features");
  return linear(x, weight_, bias_);
}

}  // namespace ember::nn
