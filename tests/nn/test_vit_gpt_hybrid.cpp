// ViT, GPT, HyenaLM and the CNN-Transformer hybrids: output shapes, parameter counts against
// hand formulas, causality of the language models, weight tying, errors, f64 gradient checks
// through tiny models, and a tiny char-level GPT that memorises a string.
#include <string>

#include "nn/nn.h"
#include "optim/adam.h"
#include "tests/testing.h"

namespace ember {
namespace {

using Inputs = std::vector<Tensor>;

// A TransformerBlock with mlp_ratio 4 and biases.
int64_t block_parameters(int64_t d) { return 12 * d * d + 13 * d; }

int64_t hyena_parameters(int64_t d, int64_t l_max, const nn::HyenaOptions& o) {
  return nn::HyenaOperator(d, l_max, o).num_parameters();
}

// A CausalConvBlock: LayerNorm, in_proj d -> c, the convolution, out_proj c -> d.
int64_t conv_block_parameters(int64_t d, int64_t kernel, int64_t expansion, bool depthwise) {
  const int64_t c = expansion * d;
  return 2 * d + (d * c + c) + (depthwise ? c * kernel : c * c * kernel) + c + (c * d + d);
}

bool has_name(const nn::Module& m, const std::string& name) {
  for (const auto& [n, t] : m.named_parameters())
    if (n == name) return true;
  return false;
}

Tensor tokens(const std::vector<int64_t>& ids, const Shape& shape) { return from_vector<int64_t>(ids, shape); }

// Logits at positions <= t must not change (beyond `tolerance`) when the tokens after t do.
void expect_causal(nn::Module& lm, int64_t vocab, int64_t length, double tolerance = 0) {
  lm.eval();
  manual_seed(11);
  const std::vector<int64_t> ids = randint(0, vocab, {2, length}).to_vector<int64_t>();
  const Tensor x = tokens(ids, {2, length});
  for (int64_t t : {int64_t{0}, length / 2}) {
    std::vector<int64_t> changed = ids;
    for (size_t i = 0; i < changed.size(); ++i)
      if (static_cast<int64_t>(i) % length > t) changed[i] = (changed[i] + 1) % vocab;
    const Tensor a = lm(x), b = lm(tokens(changed, {2, length}));
    EXPECT_LE(max(abs(slice(a, 1, 0, t + 1) - slice(b, 1, 0, t + 1))).item(), tolerance) << lm.describe() << ", t = " << t;
    EXPECT_GT(max(abs(slice(a, 1, t + 1, length) - slice(b, 1, t + 1, length))).item(), 1e-3) << lm.describe();
  }
}

TEST(ViT, ShapeAndCount) {
  const int64_t d = 16, classes = 5;
  nn::ViT vit({.image_size = 8, .in_channels = 3, .patch_size = 2, .d_model = d, .depth = 2, .n_heads = 4,
               .num_classes = classes});
  const int64_t patches = 16;
  EXPECT_EQ(vit.num_parameters(),
            (3 * 4 * d + d) + patches * d + 2 * block_parameters(d) + 2 * d + (d * classes + classes));
  EXPECT_EQ(vit(randn({3, 3, 8, 8})).shape(), (Shape{3, classes}));
  EXPECT_TRUE(has_name(vit, "blocks.1.mixer.qkv.weight"));
  EXPECT_TRUE(has_name(vit, "pos_emb"));
  EXPECT_THROW(vit(randn({1, 3, 6, 6})), Error);
  EXPECT_THROW(nn::ViT({.image_size = 10, .patch_size = 4}), Error);
}

TEST(ViT, Gradcheck) {
  nn::ViT vit({.image_size = 4, .in_channels = 1, .patch_size = 2, .d_model = 4, .depth = 1, .n_heads = 2,
               .num_classes = 3, .mlp_ratio = 1});
  vit.to(DType::F64);
  Inputs inputs{testing::leaf({2, 1, 4, 4})};
  for (const Tensor& p : vit.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return vit(in[0]); }, inputs);
}

TEST(GPT, ShapeCountAndTying) {
  const int64_t v = 11, c = 8, d = 16, layers = 2;
  auto gpt = nn::GPT({.vocab_size = v, .context_length = c, .d_model = d, .n_layers = layers, .n_heads = 4});
  EXPECT_EQ(gpt->num_parameters(), v * d + c * d + layers * block_parameters(d) + 2 * d);
  EXPECT_EQ((*gpt)(randint(0, v, {3, 5})).shape(), (Shape{3, 5, v}));
  EXPECT_EQ((*gpt)(randint(0, v, {1, c})).shape(), (Shape{1, c, v}));
  EXPECT_EQ(gpt->describe(), "GPT(vocab=11, context=8, 16, layers=2)");

  auto untied = nn::GPT({.vocab_size = v, .context_length = c, .d_model = d, .n_layers = layers, .tie_weights = false});
  EXPECT_EQ(untied->num_parameters(), gpt->num_parameters() + v * d);
  EXPECT_TRUE(has_name(*untied, "lm_head.weight"));

  // Tied: the logits are the final hidden states times the token embedding, whose gradient
  // collects both uses.
  backward(sum((*gpt)(randint(0, v, {2, 4}))));
  const Tensor emb = gpt->state_dict().at("tok_emb.weight");
  ASSERT_TRUE(emb.grad().defined());
  EXPECT_EQ(emb.grad().shape(), (Shape{v, d}));
}

TEST(GPT, IsCausal) {
  auto gpt = nn::GPT({.vocab_size = 7, .context_length = 8, .d_model = 8, .n_layers = 2, .n_heads = 2});
  expect_causal(*gpt, 7, 8);
}

TEST(GPT, Gradcheck) {
  auto gpt = nn::GPT({.vocab_size = 5, .context_length = 4, .d_model = 4, .n_layers = 1, .n_heads = 2, .mlp_ratio = 1});
  gpt->to(DType::F64);
  const Tensor x = tokens({0, 3, 1, 4, 2, 2}, {2, 3});
  EXPECT_GRADCHECK([&](const Inputs&) { return (*gpt)(x); }, gpt->parameters());
}

TEST(GPT, Errors) {
  auto gpt = nn::GPT({.vocab_size = 5, .context_length = 4, .d_model = 4, .n_layers = 1, .n_heads = 2});
  try {
    (*gpt)(randint(0, 5, {1, 6}));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("GPT(vocab=5, context=4, 4, layers=1): tokens [1,6] have length 6, outside 1 .. "
                                         "context_length = 4"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW((*gpt)(randn({1, 3})), Error);
  EXPECT_THROW((*gpt)(randint(0, 5, {3})), Error);
  EXPECT_THROW(nn::GPT({.vocab_size = 0}), Error);
}

TEST(HyenaLM, ShapeCountAndCausality) {
  const int64_t v = 9, c = 16, d = 8, layers = 2;
  nn::HyenaOptions hyena;
  hyena.filter_width = 8;
  auto lm = nn::HyenaLM({.vocab_size = v, .context_length = c, .d_model = d, .n_layers = layers, .hyena = hyena});
  EXPECT_EQ(lm->num_parameters(),
            v * d + c * d + layers * (hyena_parameters(d, c, hyena) + 8 * d * d + 9 * d) + 2 * d);
  EXPECT_EQ((*lm)(randint(0, v, {2, 12})).shape(), (Shape{2, 12, v}));
  EXPECT_TRUE(has_name(*lm, "body.0.mixer.filter_fn.implicit_filter.0.weight"));
  expect_causal(*lm, v, c, 1e-6);  // FFT convolutions leak rounding noise, nothing more
}

TEST(ImageHybrid, ShapeAndCount) {
  const int64_t d = 16, classes = 4;
  nn::ImageHybrid net({.image_size = 8, .in_channels = 3, .conv_channels = {4, 8}, .d_model = d, .depth = 1,
                       .n_heads = 2, .num_classes = classes});
  // stem 3x3 conv 3->4 + BN; stage1: strided 4->4 block with projection (the stride changes);
  // stage2: 4->8 with projection; 8x8 -> 2x2 = 4 tokens.
  auto basic = [](int64_t in, int64_t out) { return 9 * in * out + 9 * out * out + 4 * out + in * out + 2 * out; };
  const int64_t expected = (27 * 4 + 8) + basic(4, 4) + basic(4, 8) + (8 * d + d) + 4 * d + block_parameters(d) + 2 * d +
                           (d * classes + classes);
  EXPECT_EQ(net.num_parameters(), expected);
  EXPECT_EQ(net(randn({2, 3, 8, 8})).shape(), (Shape{2, classes}));
  EXPECT_EQ(net.state_dict().at("pos_emb").shape(), (Shape{4, d}));
  nn::ImageHybrid odd({.image_size = 7, .in_channels = 1, .conv_channels = {2}, .d_model = 4, .depth = 1,
                       .n_heads = 1, .num_classes = 2});
  EXPECT_EQ(odd.state_dict().at("pos_emb").shape(), (Shape{16, 4}));  // 7 -> 4
  EXPECT_EQ(odd(randn({1, 1, 7, 7})).shape(), (Shape{1, 2}));
  EXPECT_THROW(nn::ImageHybrid({.conv_channels = {}}), Error);
}

TEST(ImageHybrid, Gradcheck) {
  nn::ImageHybrid net({.image_size = 4, .in_channels = 1, .conv_channels = {2}, .d_model = 4, .depth = 1,
                       .n_heads = 2, .mlp_ratio = 1, .num_classes = 2, .activation = "tanh"});
  net.to(DType::F64);
  Inputs inputs{testing::leaf({2, 1, 4, 4})};
  for (const Tensor& p : net.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return net(in[0]); }, inputs);
}

TEST(HybridLM, ShapeCountAndCausality) {
  const int64_t v = 7, c = 12, d = 8;
  for (bool depthwise : {true, false}) {
    auto lm = nn::HybridLM({.lm = {.vocab_size = v, .context_length = c, .d_model = d, .n_layers = 1, .n_heads = 2},
                            .conv_layers = 2,
                            .conv_kernel = 3,
                            .depthwise = depthwise});
    EXPECT_EQ(lm->num_parameters(),
              v * d + c * d + 2 * conv_block_parameters(d, 3, 2, depthwise) + block_parameters(d) + 2 * d);
    EXPECT_EQ((*lm)(randint(0, v, {2, 9})).shape(), (Shape{2, 9, v}));
    expect_causal(*lm, v, c);
  }
}

TEST(HybridLM, Gradcheck) {
  auto lm = nn::HybridLM({.lm = {.vocab_size = 4, .context_length = 4, .d_model = 4, .n_layers = 1, .n_heads = 1,
                                 .mlp_ratio = 1},
                          .conv_layers = 1,
                          .conv_kernel = 2,
                          .conv_expansion = 1});
  lm->to(DType::F64);
  const Tensor x = tokens({0, 3, 1, 2, 2, 1, 0, 3}, {2, 4});
  EXPECT_GRADCHECK([&](const Inputs&) { return (*lm)(x); }, lm->parameters());
}

TEST(GPT, MemorisesAString) {
  manual_seed(0);
  const std::string text = "hello ember, hello transformer!";
  std::string alphabet;
  for (char ch : text)
    if (alphabet.find(ch) == std::string::npos) alphabet += ch;
  std::vector<int64_t> ids;
  for (char ch : text) ids.push_back(static_cast<int64_t>(alphabet.find(ch)));
  const auto n = static_cast<int64_t>(ids.size()) - 1;
  const Tensor x = tokens(std::vector<int64_t>(ids.begin(), ids.end() - 1), {1, n});
  const Tensor y = tokens(std::vector<int64_t>(ids.begin() + 1, ids.end()), {n});
  const auto v = static_cast<int64_t>(alphabet.size());
  auto gpt = nn::GPT({.vocab_size = v, .context_length = n, .d_model = 32, .n_layers = 2, .n_heads = 2});
  Adam opt(gpt->parameters(), {.lr = 1e-2});
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    const Tensor loss = cross_entropy(reshape((*gpt)(x), {n, v}), y);
    if (step == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    backward(loss);
    opt.step();
  }
  EXPECT_GT(first, 2.0);  // about log(v) at the start
  EXPECT_LT(last, 0.05) << "from " << first;
}

}  // namespace
}  // namespace ember
