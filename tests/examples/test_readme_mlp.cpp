// The README's example, kept compiling and checked: a tiny MLP built from ops learns a
// synthetic two-class problem, and its loss falls.
#include "tests/testing.h"

namespace ember {
namespace {

// --- begin README example ---
double train_tiny_mlp(bool verbose) {
  manual_seed(0);
  Tensor x = randn({256, 2});                                   // 256 points in the plane
  Tensor y = to(gt(sum(x * x, {1}), full({1}, 1.0)), DType::I64);  // class: outside the unit circle
  Tensor w1 = (randn({2, 32}) * 0.5).set_requires_grad(), b1 = zeros({32}).set_requires_grad();
  Tensor w2 = (randn({32, 2}) * 0.5).set_requires_grad(), b2 = zeros({2}).set_requires_grad();
  double loss_value = 0;
  for (int step = 0; step <= 200; ++step) {
    Tensor hidden = relu(matmul(x, w1) + b1);
    Tensor loss = cross_entropy(matmul(hidden, w2) + b2, y);
    for (Tensor p : {w1, b1, w2, b2}) p.set_grad(Tensor());
    backward(loss);
    NoGradGuard no_grad;
    for (Tensor p : {w1, b1, w2, b2}) add_(p, p.grad(), -0.5);  // plain gradient descent
    loss_value = loss.item();
    if (verbose && step % 50 == 0) std::cout << "step " << step << "  loss " << loss_value << "\n";
  }
  return loss_value;
}
// --- end README example ---

TEST(ReadmeExample, LossFalls) {
  manual_seed(0);
  const double final_loss = train_tiny_mlp(true);
  EXPECT_LT(final_loss, 0.25);
}

}  // namespace
}  // namespace ember
