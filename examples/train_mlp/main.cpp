// A small training program built outside ember's tree against the installed package: an MLP
// learns which points of the plane lie outside the unit circle, with Adam and nn modules.
// Exits non-zero unless it reaches 90% training accuracy.
#include <iostream>

#include "autograd/ops.h"
#include "nn/nn.h"
#include "optim/adam.h"

int main() {
  using namespace ember;
  manual_seed(0);
  Tensor x = randn({512, 2});
  Tensor y = to(gt(sum(x * x, {1}), full({1}, 1.0)), DType::I64);
  auto model = nn::MLP({.in_features = 2, .hidden = {32, 32}, .out_features = 2});
  Adam opt(model->parameters(), {.lr = 0.01});
  double accuracy = 0;
  for (int step = 0; step <= 300; ++step) {
    Tensor logits = model->forward(x);
    Tensor loss = cross_entropy(logits, y);
    opt.zero_grad();
    backward(loss);
    opt.step();
    if (step % 100 == 0) {
      NoGradGuard no_grad;
      accuracy = mean(to(eq(argmax(logits, 1), y), DType::F32)).item();
      std::cout << "step " << step << "  loss " << loss.item() << "  accuracy " << accuracy << "\n";
    }
  }
  return accuracy >= 0.9 ? 0 : 1;
}
