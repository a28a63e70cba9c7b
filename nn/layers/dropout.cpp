#include "nn/layers/dropout.h"

#include "autograd/functional.h"
#include "nn/layers/support.h"

namespace ember::nn {

Dropout::Dropout(double p) : Module(describe_call("Dropout", p)), p_(p) {
  check(p >= 0 && p <= 1, describe(), ": p must be in [0, 1]");
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training()); }

}  // namespace ember::nn
