// Model builders: structure, names, parameter counts against hand computations, and f64
// gradient checks through whole small models.
#include "nn/nn.h"
#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using Inputs = std::vector<Tensor>;

bool has_name(const nn::NamedTensors& named, const std::string& name) {
  for (const auto& [n, t] : named)
    if (n == name) return true;
  return false;
}

// Checks d(model(x))/d(x, parameters) in f64; the model is converted in place.
void expect_model_gradcheck(nn::Module& model, const Tensor& x) {
  model.to(DType::F64);
  Inputs inputs{x};
  for (const Tensor& p : model.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return model(in[0]); }, inputs);
}

// A CIFAR basic block's parameters: two 3x3 convolutions without bias, two BatchNorms, and a
// 1x1 projection with its BatchNorm when the shape changes.
int64_t basic_block_parameters(int64_t in, int64_t out, bool projection) {
  return 9 * in * out + 2 * out + 9 * out * out + 2 * out + (projection ? in * out + 2 * out : 0);
}

TEST(MLP, LayersNamesAndCount) {
  auto mlp = nn::MLP({.in_features = 4, .hidden = {8, 8}, .out_features = 3, .activation = "gelu"});
  EXPECT_EQ(mlp->size(), 5u);
  EXPECT_EQ(mlp->num_parameters(), (4 * 8 + 8) + (8 * 8 + 8) + (8 * 3 + 3));
  EXPECT_EQ(mlp->at<nn::Linear>(4)->weight().shape(), (Shape{3, 8}));
  EXPECT_EQ((*mlp)[1]->describe(), "GELU()");
  EXPECT_EQ(mlp->forward(randn({6, 4})).shape(), (Shape{6, 3}));
  auto with_dropout = nn::MLP({.in_features = 2, .hidden = {5}, .out_features = 1, .dropout = 0.1});
  EXPECT_EQ((*with_dropout)[2]->describe(), "Dropout(0.1)");
  EXPECT_EQ(nn::MLP({.in_features = 2, .out_features = 1})->num_parameters(), 3);  // no hidden layer: linear
}

TEST(MLP, Gradcheck) {
  auto mlp = nn::MLP({.in_features = 3, .hidden = {5, 4}, .out_features = 2, .activation = "tanh"});
  expect_model_gradcheck(*mlp, leaf({4, 3}));
  auto silu = nn::MLP({.in_features = 2, .hidden = {3}, .out_features = 2, .activation = "silu"});
  expect_model_gradcheck(*silu, testing::transposed_leaf({3, 2}));
}

TEST(CNN, StagesNamesAndCount) {
  auto cnn = nn::CNN({.in_channels = 1, .channels = {4, 8}, .num_classes = 3});
  EXPECT_EQ(cnn->num_parameters(), (1 * 4 * 9 + 4) + (4 * 8 * 9 + 8) + (8 * 3 + 3));
  EXPECT_TRUE(has_name(cnn->named_parameters(), "1.0.weight"));
  EXPECT_TRUE(has_name(cnn->named_parameters(), "4.bias"));
  EXPECT_EQ(cnn->forward(randn({2, 1, 12, 12})).shape(), (Shape{2, 3}));
  EXPECT_EQ((*cnn->at<nn::Sequential>(0))[2]->describe(), "MaxPool2d(2, stride=2)");

  auto deep = nn::CNN({.in_channels = 3, .channels = {4, 4, 6}, .convs_per_stage = 2, .num_classes = 5, .batch_norm = true});
  const int64_t convs = 9 * (3 * 4 + 4 * 4 + 4 * 4 + 4 * 4 + 4 * 6 + 6 * 6);
  const int64_t norms = 2 * (4 + 4 + 4 + 4 + 6 + 6);
  EXPECT_EQ(deep->num_parameters(), convs + norms + 6 * 5 + 5);
  EXPECT_EQ(deep->named_buffers().size(), 12u);
  EXPECT_EQ(deep->forward(randn({2, 3, 8, 8})).shape(), (Shape{2, 5}));
  EXPECT_THROW(nn::CNN({.channels = {}}), Error);
}

TEST(CNN, Gradcheck) {
  auto cnn = nn::CNN({.in_channels = 1, .channels = {2, 3}, .num_classes = 2, .activation = "silu"});
  expect_model_gradcheck(*cnn, leaf({2, 1, 6, 6}));
  auto bn = nn::CNN({.in_channels = 2, .channels = {2}, .num_classes = 2, .activation = "tanh", .batch_norm = true});
  expect_model_gradcheck(*bn, leaf({2, 2, 3, 3}));
}

TEST(ResNet, CountMatchesAHandComputation) {
  nn::ResNet net({.in_channels = 3, .num_classes = 10, .base_width = 4, .blocks_per_stage = {1, 1}});
  // Stem 3x3 conv 3->4 (108) + BN (8); layer1: 4->4 identity block (304); layer2: 4->8 with a
  // strided projection (288 + 16 + 576 + 16 + 32 + 16 = 944); fc 8->10 (90).
  EXPECT_EQ(net.num_parameters(), 108 + 8 + 304 + 944 + 90);
  EXPECT_EQ(basic_block_parameters(4, 4, false), 304);
  EXPECT_EQ(basic_block_parameters(4, 8, true), 944);
  const nn::NamedTensors params = net.named_parameters();
  for (const char* name : {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.0.bn2.bias",
                           "layer2.0.shortcut.0.weight", "layer2.0.shortcut.1.weight", "fc.weight", "fc.bias"})
    EXPECT_TRUE(has_name(params, name)) << name;
  EXPECT_FALSE(has_name(params, "layer1.0.shortcut.0.weight"));
  EXPECT_FALSE(has_name(params, "conv1.bias"));
  EXPECT_TRUE(has_name(net.named_buffers(), "layer2.0.shortcut.1.running_var"));
  EXPECT_EQ(net.forward(randn({2, 3, 8, 8})).shape(), (Shape{2, 10}));
}

TEST(ResNet, TwentyLayersByTheFormula) {
  nn::ResNet net;  // ResNet-20: widths 16, 32, 64 with 3 blocks each
  int64_t expected = 3 * 16 * 9 + 2 * 16 + 64 * 10 + 10;
  int64_t in = 16;
  for (int64_t width : {16, 32, 64}) {
    for (int b = 0; b < 3; ++b) {
      expected += basic_block_parameters(in, width, in != width);
      in = width;
    }
  }
  EXPECT_EQ(net.num_parameters(), expected);
  EXPECT_EQ(net.named_children().size(), 3u + 3u + 3u);  // conv1 bn1 act, layer1-3, pool flatten fc
}

TEST(ResNet, WidthMultiplierAndActivation) {
  nn::ResNet net({.in_channels = 1, .num_classes = 2, .base_width = 4, .width_multiplier = 1.5,
                  .blocks_per_stage = {1, 2}, .activation = "gelu"});
  const nn::StateDict state = net.state_dict();
  EXPECT_EQ(state.at("conv1.weight").shape(), (Shape{6, 1, 3, 3}));
  EXPECT_EQ(state.at("layer2.1.conv2.weight").shape(), (Shape{12, 12, 3, 3}));
  EXPECT_FALSE(state.contains("layer2.1.shortcut.0.weight"));
  std::ostringstream os;
  os << net;
  EXPECT_NE(os.str().find("(0): BasicBlock(6, 12, stride=2) {"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("(act): GELU()"), std::string::npos);
}

TEST(ResNet, EvalIsDeterministicAndGradcheckInTraining) {
  nn::ResNet net({.in_channels = 1, .num_classes = 2, .base_width = 2, .blocks_per_stage = {1, 1}, .activation = "tanh"});
  Tensor x = randn({2, 1, 4, 4});
  net.forward(x);
  net.eval();
  EXPECT_EQ(net.forward(x).to_vector<float>(), net.forward(x).to_vector<float>());
  net.train();
  expect_model_gradcheck(net, leaf({2, 1, 4, 4}));
}

}  // namespace
}  // namespace ember
