// MultiHeadAttention, TransformerBlock, PatchEmbed and init_transformer_: shapes, parameter
// counts by hand, forward values against a composition of plain ops, causality, errors, and
// f64 gradient checks through the modules, parameters included.
#include <cmath>
#include <limits>
#include <map>

#include "nn/nn.h"
#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using Inputs = std::vector<Tensor>;

using ::ember::testing::expect_error;

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const std::vector<double> x = to(a, DType::F64).to_vector<double>(), y = to(b, DType::F64).to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

// Checks d(module(x))/d(x, parameters) in f64; the module is converted in place.
void expect_module_gradcheck(nn::Module& m, const Tensor& x) {
  m.to(DType::F64);
  Inputs inputs{x};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return m(in[0]); }, inputs);
}

// Attention by hand: per head softmax(q k^T / sqrt(dh) [+ -inf above the diagonal]) v, heads
// concatenated, then the output projection.
Tensor reference_attention(const nn::MultiHeadAttention& mha, const Tensor& x, bool causal) {
  const int64_t b = x.size(0), t = x.size(1), d = x.size(2), h = mha.n_heads(), dh = d / h;
  const Tensor qkv = matmul(x, transpose(mha.qkv().weight(), 0, 1)) + mha.qkv().bias();
  auto heads = [&](int64_t part) {
    return permute(reshape(slice(qkv, 2, part * d, (part + 1) * d), {b, t, h, dh}), {0, 2, 1, 3});
  };
  Tensor scores = matmul(heads(0), transpose(heads(1), 2, 3)) * (1 / std::sqrt(static_cast<double>(dh)));
  if (causal) {
    const Tensor above = gt(reshape(arange(0, static_cast<double>(t)), {1, t}), reshape(arange(0, static_cast<double>(t)), {t, 1}));
    scores = where(above, full({1}, -std::numeric_limits<double>::infinity(), {.dtype = x.dtype()}), scores);
  }
  const Tensor y = reshape(permute(matmul(softmax(scores, -1), heads(2)), {0, 2, 1, 3}), {b, t, d});
  return matmul(y, transpose(mha.out_proj().weight(), 0, 1)) + mha.out_proj().bias();
}

TEST(MultiHeadAttention, ShapeCountAndNames) {
  nn::MultiHeadAttention mha(8, 2);
  EXPECT_EQ(mha(randn({3, 5, 8})).shape(), (Shape{3, 5, 8}));
  EXPECT_EQ(mha.num_parameters(), 4 * 8 * 8 + 4 * 8);
  EXPECT_EQ(mha.named_parameters()[0].first, "qkv.weight");
  EXPECT_EQ(mha.qkv().weight().shape(), (Shape{24, 8}));
  EXPECT_EQ(nn::MultiHeadAttention(8, 2, true, 0, false).num_parameters(), 4 * 8 * 8);
  EXPECT_EQ(nn::MultiHeadAttention(8, 2, true).describe(), "MultiHeadAttention(8, heads=2, causal)");
  EXPECT_EQ(nn::MultiHeadAttention(8, 2, false, 0.1).describe(), "MultiHeadAttention(8, heads=2, dropout=0.1)");
}

TEST(MultiHeadAttention, MatchesAttentionByHand) {
  for (bool causal : {false, true}) {
    nn::MultiHeadAttention mha(6, 3, causal);
    mha.to(DType::F64);
    const Tensor x = randn({2, 4, 6}, {.dtype = DType::F64});
    EXPECT_LT(max_abs_diff(mha(x), reference_attention(mha, x, causal)), 1e-12) << "causal " << causal;
  }
}

TEST(MultiHeadAttention, MaskHidesKeys) {
  nn::MultiHeadAttention mha(4, 2);
  const Tensor x = randn({1, 3, 4});
  // Only key 0 visible: every query returns out_proj(value 0), the same vector at every position.
  const Tensor only_first = eq(arange(0, 3), scalar(0.0));
  const Tensor y = mha.forward(x, only_first);
  EXPECT_LT(max_abs_diff(slice(y, 1, 1, 3), expand(slice(y, 1, 0, 1), {1, 2, 4})), 1e-6);
}

TEST(MultiHeadAttention, CausalOutputsIgnoreTheFuture) {
  nn::MultiHeadAttention mha(8, 4, true);
  const Tensor x = randn({2, 6, 8});
  Tensor changed = clone(x);
  copy_(slice(changed, 1, 3, 6), randn({2, 3, 8}));
  const Tensor a = mha(x), b = mha(changed);
  EXPECT_EQ(max_abs_diff(slice(a, 1, 0, 3), slice(b, 1, 0, 3)), 0);
  EXPECT_GT(max_abs_diff(slice(a, 1, 3, 6), slice(b, 1, 3, 6)), 1e-3);
}

TEST(MultiHeadAttention, Gradcheck) {
  nn::MultiHeadAttention mha(4, 2);
  expect_module_gradcheck(mha, leaf({2, 3, 4}));
  nn::MultiHeadAttention causal(6, 3, true);
  expect_module_gradcheck(causal, testing::transposed_leaf({2, 4, 6}));
}

TEST(MultiHeadAttention, Errors) {
  expect_error([] { nn::MultiHeadAttention(6, 4); }, "MultiHeadAttention(6, heads=4): d_model 6 is not divisible by 4 heads");
  nn::MultiHeadAttention mha(4, 2);
  expect_error([&] { mha(randn({3, 5})); }, "MultiHeadAttention(4, heads=2): input [3,5] must be [B, T, 4]");
  expect_error([&] { mha(randn({1, 3, 5})); }, "input [1,3,5] must be [B, T, 4]");
}

TEST(TransformerBlock, CountIs12dSquaredPlus13d) {
  for (int64_t d : {8, 12}) {
    nn::TransformerBlock block({.d_model = d, .n_heads = 4});
    EXPECT_EQ(block.num_parameters(), 12 * d * d + 13 * d);
    EXPECT_EQ(block(randn({2, 5, d})).shape(), (Shape{2, 5, d}));
  }
  // Ratio 2, no Linear biases: two LayerNorms, 4 d^2 of attention, 2 * 2 d^2 of feed-forward.
  nn::TransformerBlock narrow({.d_model = 8, .n_heads = 2, .mlp_ratio = 2, .bias = false});
  EXPECT_EQ(narrow.num_parameters(), 8 * 64 + 4 * 8);
  const std::vector<std::string> names{"ln1.weight", "ln1.bias", "mixer.qkv.weight", "mixer.qkv.bias",
                                       "mixer.out_proj.weight", "mixer.out_proj.bias", "ln2.weight", "ln2.bias",
                                       "mlp.in_proj.weight", "mlp.in_proj.bias", "mlp.out_proj.weight",
                                       "mlp.out_proj.bias"};
  nn::TransformerBlock block({.d_model = 4, .n_heads = 2});
  const nn::NamedTensors named = block.named_parameters();
  ASSERT_EQ(named.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(named[i].first, names[i]);
}

TEST(TransformerBlock, IsPreNormResidual) {
  nn::TransformerBlock block({.d_model = 6, .n_heads = 2, .activation = "relu", .causal = true});
  const Tensor x = randn({2, 3, 6});
  std::map<std::string, nn::ModulePtr> c(block.named_children().begin(), block.named_children().end());
  const Tensor h = x + (*c["mixer"])((*c["ln1"])(x));
  const Tensor want = h + (*c["mlp"])((*c["ln2"])(h));
  EXPECT_LT(max_abs_diff(block(x), want), 1e-6);
  EXPECT_EQ((*c["mlp"]).named_children()[1].second->describe(), "ReLU()");
}

TEST(TransformerBlock, DropoutOnlyWhileTraining) {
  nn::TransformerBlock block({.d_model = 8, .n_heads = 2, .dropout = 0.5});
  const Tensor x = randn({2, 4, 8});
  EXPECT_GT(max_abs_diff(block(x), block(x)), 1e-3);
  block.eval();
  EXPECT_EQ(max_abs_diff(block(x), block(x)), 0);
}

TEST(TransformerBlock, TakesAnotherMixer) {
  nn::HyenaOptions small;
  small.filter_width = 8;
  auto hyena = std::make_shared<nn::HyenaOperator>(8, 16, small);
  nn::TransformerBlock block({.d_model = 8}, hyena);
  EXPECT_EQ(block.num_parameters(), hyena->num_parameters() + 8 * 64 + 9 * 8);
  EXPECT_EQ(block(randn({2, 10, 8})).shape(), (Shape{2, 10, 8}));
}

TEST(TransformerBlock, Gradcheck) {
  nn::TransformerBlock block({.d_model = 4, .n_heads = 2, .mlp_ratio = 2, .causal = true});
  expect_module_gradcheck(block, leaf({2, 3, 4}));
  nn::TransformerBlock tanh_block({.d_model = 4, .n_heads = 1, .mlp_ratio = 1, .activation = "tanh"});
  expect_module_gradcheck(tanh_block, testing::transposed_leaf({1, 3, 4}));
}

TEST(TransformerBlock, Errors) {
  expect_error([] { nn::TransformerBlock({.d_model = 6, .n_heads = 4}); }, "d_model 6 is not divisible by 4 heads");
  expect_error([] { nn::TransformerBlock({.d_model = 4, .mlp_ratio = 0}); }, "mlp_ratio must be positive");
  nn::TransformerBlock block({.d_model = 4, .n_heads = 2});
  expect_error([&] { block(randn({2, 3, 5})); }, "TransformerBlock(4, heads=2): input [2,3,5] must be [B, T, 4]");
}

TEST(PatchEmbed, TokensAreTheConvolutionRowMajor) {
  nn::PatchEmbed embed(3, 4, 6);
  EXPECT_EQ(embed.num_parameters(), 3 * 16 * 6 + 6);
  const Tensor x = randn({2, 3, 8, 12});
  const Tensor tokens = embed(x);
  ASSERT_EQ(tokens.shape(), (Shape{2, 6, 6}));
  const auto conv = std::dynamic_pointer_cast<nn::Conv2d>(embed.named_children()[0].second);
  const Tensor map = (*conv)(x);  // [2, 6, 2, 3]
  // Token 4 is patch row 1, column 1.
  EXPECT_LT(max_abs_diff(select(tokens, 1, 4), select(select(map, 2, 1), 2, 1)), 1e-6);
  expect_error([&] { embed(randn({1, 3, 7, 8})); }, "PatchEmbed(3, patch=4, 6): input [1,3,7,8]: height and width must be multiples of the patch size 4");
  expect_error([&] { embed(randn({1, 2, 8, 8})); }, "has 2 channels, expected 3");
}

TEST(PatchEmbed, Gradcheck) {
  nn::PatchEmbed embed(2, 2, 3);
  expect_module_gradcheck(embed, leaf({2, 2, 4, 2}));
}

double std_of(const Tensor& t) {
  const std::vector<double> v = to(t, DType::F64).to_vector<double>();
  double sum = 0, sq = 0;
  for (double x : v) sum += x, sq += x * x;
  const double n = static_cast<double>(v.size()), mean = sum / n;
  return std::sqrt(sq / n - mean * mean);
}

TEST(InitTransformer, Gpt2Scheme) {
  manual_seed(3);
  nn::Sequential model{std::make_shared<nn::Embedding>(300, 64), std::make_shared<nn::TransformerBlock>(
                                                                     nn::TransformerBlockOptions{.d_model = 64, .n_heads = 4})};
  nn::init_transformer_(model, 8);
  const nn::StateDict s = model.state_dict();
  EXPECT_NEAR(std_of(s.at("0.weight")), 0.02, 0.001);
  EXPECT_NEAR(std_of(s.at("1.mixer.qkv.weight")), 0.02, 0.001);
  EXPECT_NEAR(std_of(s.at("1.mlp.in_proj.weight")), 0.02, 0.001);
  EXPECT_NEAR(std_of(s.at("1.mixer.out_proj.weight")), 0.02 / 4, 0.0005);
  EXPECT_NEAR(std_of(s.at("1.mlp.out_proj.weight")), 0.02 / 4, 0.0003);
  EXPECT_EQ(max_abs_diff(s.at("1.mixer.qkv.bias"), zeros({192})), 0);
  EXPECT_EQ(max_abs_diff(s.at("1.ln1.weight"), ones({64})), 0);
}

}  // namespace
}  // namespace ember
