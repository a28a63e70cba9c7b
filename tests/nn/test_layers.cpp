// Layers: forward values and shapes, input errors, and f64 gradient checks through each layer
// with its parameters among the checked inputs.
#include <cmath>

#include "nn/nn.h"
#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using Inputs = std::vector<Tensor>;

using ::ember::testing::expect_error;

// Checks d(layer(x))/d(x, parameters) in f64; the layer is converted in place.
void expect_layer_gradcheck(nn::Module& layer, const Tensor& x) {
  layer.to(DType::F64);
  Inputs inputs{x};
  for (const Tensor& p : layer.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return layer(in[0]); }, inputs);
}

void expect_close(const Tensor& a, const Tensor& b, double tol = 1e-6) {
  ASSERT_EQ(a.shape(), b.shape());
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "element " << i;
}

TEST(Linear, ForwardValuesOverLeadingDims) {
  nn::Linear lin(2, 3);
  lin.load_state_dict({{"weight", from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2})}, {"bias", from_vector<float>({1, 0, -1}, {3})}});
  Tensor x = from_vector<float>({1, 1, 2, -1}, {2, 1, 2});
  Tensor y = lin(x);
  EXPECT_EQ(y.shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{4, 7, 10, 1, 2, 3}));
  expect_error([&] { lin(zeros({2, 5})); }, "Linear(2, 3): input [2,5] must end in 2 features");
  EXPECT_EQ(nn::Linear(2, 3, false).describe(), "Linear(2, 3, bias=false)");
}

TEST(Linear, Gradcheck) {
  nn::Linear lin(3, 2);
  expect_layer_gradcheck(lin, leaf({4, 3}));
  nn::Linear no_bias(3, 2, false);
  expect_layer_gradcheck(no_bias, testing::transposed_leaf({2, 3}));
}

TEST(Conv, ShapesMatchTheOps) {
  nn::Conv2d conv(3, 8, 3, {.stride = 2, .padding = 1});
  EXPECT_EQ(conv.weight().shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(conv.num_parameters(), 8 * 27 + 8);
  EXPECT_EQ(conv.describe(), "Conv2d(3, 8, kernel=3x3, stride=2, padding=1)");
  Tensor x = randn({2, 3, 9, 9});
  Tensor y = conv(x);
  EXPECT_EQ(y.shape(), (Shape{2, 8, 5, 5}));
  expect_close(y, conv2d(x, conv.weight(), conv.bias(), {2, 2}, {1, 1}), 1e-5);
  expect_error([&] { conv(zeros({2, 4, 9, 9})); }, "Conv2d(3, 8, kernel=3x3, stride=2, padding=1): input [2,4,9,9] has 4 channels, expected 3");
  expect_error([&] { conv(zeros({3, 9, 9})); }, "input [3,9,9] must be [N,C,H,W]");

  nn::Conv2d grouped(4, 6, {1, 3}, {.groups = 2, .bias = false});
  EXPECT_EQ(grouped.weight().shape(), (Shape{6, 2, 1, 3}));
  EXPECT_FALSE(grouped.bias().defined());
  EXPECT_THROW(nn::Conv2d(3, 4, 3, {.groups = 2}), Error);

  nn::Conv1d conv1(2, 5, 3, {.padding = 1});
  EXPECT_EQ(conv1(randn({4, 2, 7})).shape(), (Shape{4, 5, 7}));
  EXPECT_EQ(conv1.weight().shape(), (Shape{5, 2, 3}));
}

TEST(Conv, Gradcheck) {
  nn::Conv2d conv(2, 3, 3, {.stride = 2, .padding = 1});
  expect_layer_gradcheck(conv, leaf({2, 2, 5, 4}));
  nn::Conv1d conv1(2, 2, 2, {.dilation = 2});
  expect_layer_gradcheck(conv1, leaf({1, 2, 6}));
}

TEST(BatchNorm, RunningStatisticsAndModes) {
  nn::BatchNorm2d bn(2, {.momentum = 0.25});
  // Channel 0 holds 1..4, channel 1 holds 10, 20, 30, 40 (one sample, 2x2).
  Tensor x = from_vector<float>({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
  Tensor y = bn(x);
  const float s0 = 1 / std::sqrt(1.25f + 1e-5f);  // biased variance of 1..4 is 1.25
  EXPECT_NEAR(y.to_vector<float>()[0], -1.5f * s0, 1e-5);
  // running = 0.75 running + 0.25 batch, with the unbiased variance (5/3 and 500/3).
  expect_close(bn.running_mean(), from_vector<float>({0.25f * 2.5f, 0.25f * 25}, {2}));
  expect_close(bn.running_var(), from_vector<float>({0.75f + 0.25f * 5 / 3.f, 0.75f + 0.25f * 500 / 3.f}, {2}), 1e-4);
  bn.eval();
  std::vector<float> before = bn.running_mean().to_vector<float>();
  Tensor e = bn(x);
  EXPECT_EQ(bn.running_mean().to_vector<float>(), before);  // eval leaves the statistics alone
  const float rm = 0.625f, rv = 0.75f + 0.25f * 5 / 3.f;
  EXPECT_NEAR(e.to_vector<float>()[0], (1 - rm) / std::sqrt(rv + 1e-5f), 1e-5);
  expect_error([&] { bn(zeros({2, 3, 2, 2})); }, "BatchNorm2d(2): input [2,3,2,2] has 3 channels, expected 2");
  expect_error([&] { nn::BatchNorm1d(2)(zeros({2, 2, 2, 2})); }, "must be [N,C] or [N,C,L]");
  nn::BatchNorm1d plain(3, {.affine = false, .track_running_stats = false});
  EXPECT_EQ(plain.num_parameters(), 0);
  EXPECT_TRUE(plain.named_buffers().empty());
  plain.eval();
  EXPECT_EQ(plain(randn({4, 3})).shape(), (Shape{4, 3}));  // batch statistics without running ones
}

TEST(BatchNorm, Gradcheck) {
  nn::BatchNorm2d bn(3);
  expect_layer_gradcheck(bn, leaf({2, 3, 2, 2}));
  bn.eval();
  expect_layer_gradcheck(bn, leaf({2, 3, 2, 2}));
}

TEST(LayerAndGroupNorm, MatchTheOpsAndGradcheck) {
  nn::LayerNorm ln({3, 4});
  EXPECT_EQ(ln.num_parameters(), 24);
  EXPECT_EQ(ln.describe(), "LayerNorm([3,4])");
  Tensor x = randn({2, 3, 4});
  expect_close(ln(x), layer_norm(x, {3, 4}));
  expect_layer_gradcheck(ln, leaf({2, 3, 4}));

  nn::GroupNorm gn(2, 4);
  EXPECT_EQ(gn.num_parameters(), 8);
  Tensor z = randn({2, 4, 3});
  expect_close(gn(z), group_norm(z, 2));
  expect_error([&] { gn(zeros({2, 6, 3})); }, "GroupNorm(2, 4): input [2,6,3] has 6 channels, expected 4");
  EXPECT_THROW(nn::GroupNorm(3, 4), Error);
  expect_layer_gradcheck(gn, leaf({2, 4, 3}));
}

TEST(Embedding, PicksRows) {
  nn::Embedding emb(5, 3);
  Tensor idx = from_vector<int64_t>({4, 0, 4}, {3, 1});
  Tensor y = emb(idx);
  EXPECT_EQ(y.shape(), (Shape{3, 1, 3}));
  std::vector<float> w = emb.weight().to_vector<float>(), out = y.to_vector<float>();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out[static_cast<size_t>(i)], w[static_cast<size_t>(12 + i)]);
    EXPECT_EQ(out[static_cast<size_t>(3 + i)], w[static_cast<size_t>(i)]);
  }
  expect_error([&] { emb(zeros({2})); }, "Embedding(5, 3): indices [2] must be i64, got f32");
  emb.to(DType::F64);
  EXPECT_GRADCHECK([&](const Inputs&) { return emb(idx); }, {emb.weight()});
}

TEST(Pooling, ShapesAndValues) {
  Tensor x = from_vector<float>({1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 1, 2, 7, 1, 9}, {1, 1, 4, 4});
  EXPECT_EQ(nn::MaxPool2d(2)(x).to_vector<float>(), (std::vector<float>{5, 8, 7, 9}));
  EXPECT_EQ(nn::AvgPool2d(2)(x).to_vector<float>(), (std::vector<float>{3.25f, 2.75f, 2.25f, 3}));
  EXPECT_EQ(nn::MaxPool2d(3, 1)(x).shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(nn::MaxPool2d(3, 2, 1)(x).shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(nn::AdaptiveAvgPool2d(1)(x).to_vector<float>(), (std::vector<float>{45.0f / 16}));
  EXPECT_EQ(nn::AdaptiveAvgPool2d({2, 1})(randn({2, 3, 5, 7})).shape(), (Shape{2, 3, 2, 1}));
  EXPECT_EQ(nn::MaxPool2d(2).describe(), "MaxPool2d(2, stride=2)");
  EXPECT_THROW(nn::MaxPool2d(2, 2, 2), Error);
  expect_error([&] { nn::AvgPool2d(2)(zeros({4, 4})); }, "AvgPool2d(2, stride=2): input [4,4] must be [N,C,H,W]");
}

TEST(Flatten, MergesDims) {
  EXPECT_EQ(nn::Flatten()(zeros({2, 3, 4, 5})).shape(), (Shape{2, 60}));
  EXPECT_EQ(nn::Flatten(0, 1)(zeros({2, 3, 4})).shape(), (Shape{6, 4}));
}

TEST(Activations, MatchTheOps) {
  Tensor x = from_vector<float>({-2, -0.5f, 0.5f, 3}, {4});
  expect_close(nn::ReLU()(x), relu(x));
  expect_close(nn::Tanh()(x), tanh(x));
  expect_close(nn::Sigmoid()(x), sigmoid(x));
  expect_close(nn::SiLU()(x), silu(x));
  expect_close(nn::GELU()(x), gelu(x));
  expect_close(nn::GELU(true)(x), gelu(x, true));
  expect_close(nn::LeakyReLU(0.2)(x), from_vector<float>({-0.4f, -0.1f, 0.5f, 3}, {4}));
  expect_close(nn::Identity()(x), x);
  const std::vector<std::pair<std::string, std::string>> names{
      {"relu", "ReLU()"},         {"tanh", "Tanh()"},   {"gelu", "GELU()"}, {"gelu_tanh", "GELU(tanh)"},
      {"silu", "SiLU()"},         {"swish", "SiLU()"},  {"sigmoid", "Sigmoid()"},
      {"leaky_relu", "LeakyReLU(0.01)"}, {"identity", "Identity()"}};
  for (const auto& [name, text] : names) EXPECT_EQ(nn::Activation(name)->describe(), text);
  expect_error([] { nn::Activation("softsign"); }, "Activation: unknown name 'softsign' (known: relu,");
}

TEST(Sequential, IndexingAndChaining) {
  nn::Sequential seq{std::make_shared<nn::Linear>(3, 4), nn::Activation("tanh")};
  seq.push_back(std::make_shared<nn::Linear>(4, 2));
  EXPECT_EQ(seq.size(), 3u);
  auto first = seq.at<nn::Linear>(0);
  EXPECT_EQ(first->weight().shape(), (Shape{4, 3}));
  Tensor x = randn({5, 3});
  expect_close(seq(x), seq[2]->forward(tanh(first->forward(x))));
  expect_error([&] { seq.at<nn::Conv2d>(1); }, "Sequential: module 1 is Tanh(), not the type asked for");
  expect_error([&] { seq[3]; }, "Sequential: index 3 out of range for 3 modules");
}

}  // namespace
}  // namespace ember
