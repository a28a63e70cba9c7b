// FlopCounter over a model: per-module attribution of forward and backward FLOPs.
#include "autograd/flops.h"
#include "nn/nn.h"
#include "tests/testing.h"

namespace ember {
namespace {

TEST(ModuleFlops, MlpForwardAndBackwardByModule) {
  auto model = nn::MLP({.in_features = 3, .hidden = {4}, .out_features = 2});  // Linear, ReLU, Linear
  Tensor x = randn({5, 3});
  FlopCounter c;
  Tensor y = (*model)(x);
  // Linear(3, 4): 2 5 4 3 + bias 5 4; ReLU: 5 4; Linear(4, 2): 2 5 2 4 + bias 5 2.
  auto modules = c.by_module();
  EXPECT_DOUBLE_EQ(modules.at("0"), 120 + 20);
  EXPECT_DOUBLE_EQ(modules.at("1"), 20);
  EXPECT_DOUBLE_EQ(modules.at("2"), 80 + 10);
  EXPECT_DOUBLE_EQ(modules.at(""), 250);
  EXPECT_DOUBLE_EQ(c.forward_total(), 250);

  backward(y, ones(y.shape()));
  // Linear(4, 2): bias gradient (sum of 5 rows of 2), the input and weight products;
  // ReLU: the y > 0 compare; Linear(3, 4): bias gradient, the weight product only (x needs none).
  EXPECT_DOUBLE_EQ(c.backward_total(), (10 + 80 + 80) + 20 + (20 + 120));
  modules = c.by_module();
  EXPECT_DOUBLE_EQ(modules.at("0"), 140 + 140);
  EXPECT_DOUBLE_EQ(modules.at("1"), 20 + 20);
  EXPECT_DOUBLE_EQ(modules.at("2"), 90 + 170);
  EXPECT_DOUBLE_EQ(modules.at(""), c.total());
  EXPECT_EQ(modules.size(), 4u);
  EXPECT_DOUBLE_EQ(c.by_op().at("matmul"), 120 + 80 + 80 + 80 + 120);
}

TEST(ModuleFlops, NestedChildrenHaveDottedPaths) {
  auto inner = std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{std::make_shared<nn::Linear>(4, 2)});
  auto model = std::make_shared<nn::Sequential>(
      std::initializer_list<nn::ModulePtr>{std::make_shared<nn::Linear>(3, 4, false), inner});
  FlopCounter c;
  (*model)(randn({1, 3}));
  const auto modules = c.by_module();
  EXPECT_DOUBLE_EQ(modules.at("0"), 2 * 4 * 3);
  EXPECT_DOUBLE_EQ(modules.at("1.0"), 2 * 2 * 4 + 2);
  EXPECT_DOUBLE_EQ(modules.at("1"), modules.at("1.0"));
  EXPECT_DOUBLE_EQ(modules.at(""), c.total());
}

TEST(ModuleFlops, NoScopesWithoutACounter) {
  auto model = nn::MLP({.in_features = 3, .hidden = {4}, .out_features = 2});
  Tensor y = (*model)(randn({5, 3}));
  FlopCounter c;
  backward(sum(y));  // recorded without a counter: the nodes carry no module
  EXPECT_TRUE(c.by_module().empty());
  EXPECT_DOUBLE_EQ(c.backward_total(), (10 + 80 + 80) + 20 + (20 + 120));
}

}  // namespace
}  // namespace ember
