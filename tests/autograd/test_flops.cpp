// FlopCounter: hand-computed counts of each op family, forward and backward, nesting, scope.
#include <cmath>

#include "autograd/flops.h"
#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;

// Runs backward from y with an all-ones upstream gradient made outside the counted ops.
void backward_ones(const Tensor& y) { backward(y, ones(y.shape(), {.dtype = y.dtype()})); }

double op_flops(const FlopCounter& c, const std::string& op) {
  auto by_op = c.by_op();
  return by_op.count(op) ? by_op.at(op) : 0;
}

TEST(Flops, MatmulForwardAndBackward) {
  Tensor a = leaf({3, 4}), b = leaf({4, 5});
  FlopCounter c;
  Tensor y = matmul(a, b);
  EXPECT_DOUBLE_EQ(c.forward_total(), 2 * 3 * 5 * 4);
  backward_ones(y);
  // da = g b^T [3,5]x[5,4] and db = a^T g [4,3]x[3,5]: 2 m n k each.
  EXPECT_DOUBLE_EQ(c.backward_total(), 2 * (2 * 3 * 4 * 5));
  EXPECT_DOUBLE_EQ(c.total(), 3 * (2 * 3 * 4 * 5));
  EXPECT_EQ(c.by_op().size(), 1u);
}

TEST(Flops, BatchedMatmulBroadcastsTheBatch) {
  Tensor a = leaf({3, 4, 5}), b = leaf({1, 5, 6});
  FlopCounter c;
  Tensor y = matmul(a, b);
  EXPECT_DOUBLE_EQ(c.forward_total(), 3 * 2 * 4 * 6 * 5);
  backward_ones(y);
  // Two batched products of the same size; db [3,5,6] is summed back to [1,5,6] (a reduce).
  EXPECT_DOUBLE_EQ(op_flops(c, "matmul"), 3 * (3 * 2 * 4 * 6 * 5));
  EXPECT_DOUBLE_EQ(op_flops(c, "reduce"), 3 * 5 * 6);
  EXPECT_DOUBLE_EQ(c.backward_total(), 2 * (3 * 2 * 4 * 6 * 5) + 3 * 5 * 6);
}

TEST(Flops, LinearCountsTheBiasAsElementwise) {
  Tensor x = leaf({2, 3}), w = leaf({4, 3}), b = leaf({4});
  FlopCounter c;
  Tensor y = linear(x, w, b);
  EXPECT_DOUBLE_EQ(op_flops(c, "matmul"), 2 * 2 * 4 * 3);
  EXPECT_DOUBLE_EQ(op_flops(c, "elementwise"), 2 * 4);
  backward_ones(y);
  EXPECT_DOUBLE_EQ(op_flops(c, "matmul"), 3 * (2 * 2 * 4 * 3));
  EXPECT_DOUBLE_EQ(op_flops(c, "reduce"), 2 * 4);  // db: g summed over the rows
  EXPECT_DOUBLE_EQ(c.backward_total(), 2 * (2 * 2 * 4 * 3) + 2 * 4);
}

TEST(Flops, Conv2dGroupedWithBias) {
  Tensor x = leaf({2, 4, 5, 5}), w = leaf({6, 2, 3, 3}), b = leaf({6});
  FlopCounter c;
  Tensor y = conv2d(x, w, b, {1, 1}, {1, 1}, {1, 1}, 2);  // y [2,6,5,5]: 300 outputs
  const double product = 2.0 * 300 * (4 / 2) * 3 * 3;
  EXPECT_DOUBLE_EQ(op_flops(c, "conv"), product);
  EXPECT_DOUBLE_EQ(op_flops(c, "elementwise"), 300);
  backward_ones(y);
  EXPECT_DOUBLE_EQ(op_flops(c, "conv"), 3 * product);  // + data and weight gradients
  EXPECT_DOUBLE_EQ(c.backward_total(), 2 * product + 300);
}

TEST(Flops, Conv1dDepthwiseDataGradientOnly) {
  Tensor x = leaf({1, 3, 10});
  Tensor w = randn({3, 1, 4}, {.dtype = DType::F64});
  FlopCounter c;
  Tensor y = conv1d(x, w, {}, 1, 0, 1, 3);  // y [1,3,7]
  EXPECT_DOUBLE_EQ(c.forward_total(), 2.0 * 21 * 4);
  backward_ones(y);
  EXPECT_DOUBLE_EQ(c.backward_total(), 2.0 * 21 * 4);
}

TEST(Flops, AttentionFullAndCausal) {
  const double heads = 2 * 3, d = 8, t = 4;
  auto run = [&](bool causal, double scores) {
    Tensor q = leaf({2, 3, 4, 8}), k = leaf({2, 3, 4, 8}), v = leaf({2, 3, 4, 8});
    FlopCounter c;
    Tensor y = scaled_dot_product_attention(q, k, v, causal);
    // QK^T and PV 2 S D each, softmax 5 per score.
    EXPECT_DOUBLE_EQ(c.forward_total(), heads * scores * (2 * d + 2 * d + 5));
    backward_ones(y);
    // QK^T again, dV, dP, dQ, dK (2 S D each), P and dS (2 per score each), delta (2 T D).
    EXPECT_DOUBLE_EQ(c.backward_total(), heads * (scores * (5 * 2 * d + 4) + 2 * t * d));
    EXPECT_DOUBLE_EQ(op_flops(c, "attention"), c.total());
  };
  run(false, 16);
  run(true, 1 + 2 + 3 + 4);  // key j <= query i
}

TEST(Flops, AttentionCausalWithFewerQueriesThanKeys) {
  Tensor q = leaf({2, 8}), k = leaf({5, 8}), v = leaf({5, 8});
  FlopCounter c;
  scaled_dot_product_attention(q, k, v, true);
  EXPECT_DOUBLE_EQ(c.total(), (1 + 2) * (2 * 8 + 2 * 8 + 5));
}

TEST(Flops, FftConv) {
  Tensor u = leaf({2, 3, 8}), k = leaf({3, 5}), D = leaf({3});
  FlopCounter c;
  Tensor y = fft_conv(u, k, D);
  // n = 12 >= 8 + 5 - 1 (2^2 3); 6 rows of u, 3 of k; 7 bins per row; 48 elements.
  const double transform = 5 * 12 * std::log2(12.0);
  EXPECT_DOUBLE_EQ(c.forward_total(), (6 + 3 + 6) * transform + 6 * (6 * 7) + 2 * 48);
  backward_ones(y);
  // g's transforms (6); du: products, inverses (6), D g; dk: accumulated products, inverses (3);
  // dD: a dot product; the CPU keeps no spectra, so u (6) and k (3) are transformed again.
  EXPECT_DOUBLE_EQ(c.backward_total(), (6 + 6 + 3 + 6 + 3) * transform + 6 * 42 + 8 * 42 + 2 * 48 + 2 * 48);
  EXPECT_DOUBLE_EQ(op_flops(c, "fft_conv"), c.total());
}

TEST(Flops, ElementwiseOps) {
  Tensor x = leaf({3, 4});
  FlopCounter c;
  Tensor y = relu(x);
  EXPECT_DOUBLE_EQ(c.forward_total(), 12);
  backward_ones(y);
  EXPECT_DOUBLE_EQ(c.backward_total(), 12);  // the y > 0 compare; the select is free
  c.reset();
  Tensor z = gelu(x);
  EXPECT_DOUBLE_EQ(c.forward_total(), 5 * 12);
  backward_ones(z);
  // The derivative, times g, added to the gradient x kept from relu's backward.
  EXPECT_DOUBLE_EQ(c.backward_total(), 10 * 12 + 12 + 12);
  c.reset();
  Tensor s = x * 2.0 + x;  // affine (2 per element), add (1)
  EXPECT_DOUBLE_EQ(c.total(), 3 * 12);
  EXPECT_DOUBLE_EQ(op_flops(c, "elementwise"), 3 * 12);
}

TEST(Flops, LayerNorm) {
  Tensor x = leaf({4, 6}), w = leaf({6}), b = leaf({6});
  FlopCounter c;
  Tensor y = layer_norm(x, {6}, w, b);
  EXPECT_DOUBLE_EQ(c.forward_total(), 24 * (5 + 1 + 1));
  backward_ones(y);
  EXPECT_DOUBLE_EQ(c.backward_total(), 24 * (8 + 2 + 1));
  EXPECT_DOUBLE_EQ(op_flops(c, "norm"), c.total());
}

TEST(Flops, CrossEntropy) {
  Tensor logits = leaf({4, 5});
  Tensor target = from_vector<int64_t>({0, 4, 2, 1}, {4});
  FlopCounter c;
  Tensor loss = cross_entropy(logits, target, Reduction::Sum);
  EXPECT_DOUBLE_EQ(op_flops(c, "cross_entropy"), 4 * 20);
  EXPECT_DOUBLE_EQ(op_flops(c, "reduce"), 4);  // the sum over rows
  backward(loss);
  EXPECT_DOUBLE_EQ(c.backward_total(), 4 * 20);
}

TEST(Flops, SoftmaxForwardAndBackward) {
  Tensor x = leaf({3, 7});
  FlopCounter c;
  Tensor y = softmax(x, -1);
  EXPECT_DOUBLE_EQ(c.forward_total(), 5 * 21);
  backward_ones(y);
  EXPECT_DOUBLE_EQ(c.backward_total(), 4 * 21);
}

TEST(Flops, CountsOnlyWhileAlive) {
  Tensor a = leaf({2, 2});
  EXPECT_FALSE(counting_flops());
  count_flops("matmul", 1e9);  // nobody listens: dropped
  Tensor before = a + a;
  double inside = 0;
  {
    FlopCounter c;
    EXPECT_TRUE(counting_flops());
    Tensor y = a + a;
    inside = c.total();
  }
  EXPECT_FALSE(counting_flops());
  Tensor after = a + a;
  FlopCounter fresh;
  EXPECT_DOUBLE_EQ(inside, 4);
  EXPECT_DOUBLE_EQ(fresh.total(), 0);
  EXPECT_TRUE(fresh.by_op().empty());
}

TEST(Flops, NestedCountersEachCount) {
  Tensor a = leaf({2, 3}), b = leaf({3, 2});
  FlopCounter outer;
  matmul(a, b);  // 24
  {
    FlopCounter inner;
    a + a;  // 6
    EXPECT_DOUBLE_EQ(inner.total(), 6);
    EXPECT_DOUBLE_EQ(outer.total(), 30);
  }
  a* a;  // 6, the inner counter is gone
  EXPECT_DOUBLE_EQ(outer.total(), 36);
  outer.reset();
  EXPECT_DOUBLE_EQ(outer.total(), 0);
  a + a;
  EXPECT_DOUBLE_EQ(outer.total(), 6);
}

TEST(Flops, ModuleScopesAttributeForwardAndBackward) {
  Tensor a = leaf({2, 3}), b = leaf({3, 2});
  FlopCounter c;
  Tensor y;
  {
    FlopModuleScope model(std::make_shared<const std::string>(""));
    FlopModuleScope block(std::make_shared<const std::string>("block"));
    y = matmul(a, b);  // 24
  }
  Tensor z = y * y;  // 4, outside any module
  backward_ones(z);  // mul's two products and their sum outside any module, matmul's in "block"
  EXPECT_DOUBLE_EQ(c.backward_total(), 4 + 4 + 4 + 2 * 24);
  const auto modules = c.by_module();
  EXPECT_DOUBLE_EQ(modules.at("block"), 24 + 2 * 24);
  EXPECT_DOUBLE_EQ(modules.at(""), 24 + 2 * 24);
  EXPECT_EQ(modules.size(), 2u);
  EXPECT_NE(c.table().find("block"), std::string::npos);
}

}  // namespace
}  // namespace ember
