#include "tests/testing.h"

namespace ember {
namespace {

TEST(Engine, AccumulatesIntoLeavesAcrossUsesAndCalls) {
  Tensor x = from_vector<double>({1, 2, 3}, {3}).set_requires_grad();
  backward(sum(x * x + x));  // d/dx = 2x + 1
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 5, 7}));
  backward(sum(x));  // accumulates
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 6, 8}));
}

TEST(Engine, UpstreamGradientAndShapeChecks) {
  Tensor x = from_vector<double>({1, 2}, {2}).set_requires_grad();
  Tensor y = x * 3.0;
  EXPECT_THROW(backward(y), Error);  // non-scalar root needs an upstream gradient
  EXPECT_THROW(backward(y, ones({3}, {.dtype = DType::F64})), Error);
  backward(y, from_vector<double>({1, 10}, {2}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 30}));
}

TEST(Engine, SecondBackwardThroughFreedGraphThrowsUnlessRetained) {
  Tensor x = from_vector<double>({2}, {1}).set_requires_grad();
  Tensor y = sum(x * x);
  backward(y, {}, /*retain_graph=*/true);
  backward(y);
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{8}));
  try {
    backward(y);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already freed"), std::string::npos) << e.what();
  }
}

TEST(Engine, NoGradGuardAndDetachStopRecording) {
  Tensor x = ones({2}, {.dtype = DType::F64}).set_requires_grad();
  {
    NoGradGuard no_grad;
    EXPECT_FALSE((x * 2.0).requires_grad());
  }
  EXPECT_TRUE((x * 2.0).requires_grad());
  EXPECT_FALSE(detach(x * 2.0).requires_grad());
  EXPECT_THROW(backward(sum(detach(x))), Error);
}

TEST(Engine, InPlaceChangeOfSavedTensorIsAnError) {
  Tensor a = ones({3}, {.dtype = DType::F64}).set_requires_grad();
  Tensor b = full({3}, 2.0, {.dtype = DType::F64});
  Tensor y = sum(a * b);  // saves b
  add_(b, ones({3}, {.dtype = DType::F64}));
  try {
    backward(y);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mul: a tensor of shape [3] saved for backward was modified in place"),
              std::string::npos)
        << e.what();
  }
}

TEST(Engine, DiamondGraphsSumBothPaths) {
  Tensor x = from_vector<double>({1.5}, {1}).set_requires_grad();
  Tensor h = x * x;            // 2x
  Tensor y = sum(h * x + h);   // x^3 + x^2 -> 3x^2 + 2x
  backward(y);
  EXPECT_NEAR(x.grad().item(), 3 * 1.5 * 1.5 + 2 * 1.5, 1e-12);
}

TEST(Engine, GradientsThroughViewsAndBroadcastReduceToInputShape) {
  Tensor w = ones({1, 3}, {.dtype = DType::F64}).set_requires_grad();
  Tensor x = reshape(arange(0, 6, 1, {.dtype = DType::F64}), {2, 3});
  backward(sum(transpose(x * w, 0, 1)));
  EXPECT_EQ(w.grad().shape(), (Shape{1, 3}));
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{3, 5, 7}));
}

TEST(Engine, DeepChainsDoNotOverflowTheStack) {
  Tensor x = ones({1}, {.dtype = DType::F64}).set_requires_grad();
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = y * 1.0;
  backward(sum(y));
  EXPECT_EQ(x.grad().item(), 1.0);
}

}  // namespace
}  // namespace ember
