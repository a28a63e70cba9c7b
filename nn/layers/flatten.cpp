#include "nn/layers/flatten.h"

#include "autograd/shape_ops.h"
#include "nn/layers/support.h"

namespace ember::nn {

Flatten::Flatten(int64_t start_dim, int64_t end_dim)
    : Module(describe_call("Flatten", start_dim, end_dim)), start_dim_(start_dim), end_dim_(end_dim) {}

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim_, end_dim_); }

}  // namespace ember::nn
