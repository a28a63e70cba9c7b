// Autoregressive decoding (nn/generate.h, CausalLM::forward_step): stepping through a sequence
// token by token or in chunks gives the full forward's logits for GPT, HybridLM and HyenaLM;
// greedy generation is argmax decoding by full forwards; sampling is repeatable under a seed,
// keeps to the top-k set with the softmax's frequencies; log-probabilities by hand; errors.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nn/nn.h"
#include "tests/testing.h"

namespace ember {
namespace {

using ::ember::testing::expect_error;

constexpr int64_t kVocab = 11, kContext = 16;

nn::GPTOptions lm_options(int64_t d, int64_t layers) {
  return {.vocab_size = kVocab, .context_length = kContext, .d_model = d, .n_layers = layers, .n_heads = 2};
}

// Tiny models of every kind, in eval mode and the given dtype.
std::vector<std::shared_ptr<nn::CausalLM>> models(DType dtype) {
  manual_seed(3);
  nn::GPTOptions hyena = lm_options(8, 2);
  hyena.hyena.filter_width = 8;
  std::vector<std::shared_ptr<nn::CausalLM>> all = {
      nn::GPT(lm_options(16, 2)),
      nn::HybridLM({.lm = lm_options(16, 1), .conv_layers = 2, .conv_kernel = 3}),
      nn::HybridLM({.lm = lm_options(8, 1), .conv_layers = 1, .conv_kernel = 1, .depthwise = false}),
      nn::HyenaLM(hyena)};
  for (auto& m : all) m->to(dtype).eval();
  return all;
}

Tensor random_tokens(int64_t batch, int64_t length) { return randint(0, kVocab, {batch, length}); }

// The logits of `tokens` fed through forward_step in chunks of the given sizes, joined.
Tensor stepped(nn::CausalLM& model, const Tensor& tokens, const std::vector<int64_t>& chunks) {
  nn::DecodeState state;
  std::vector<Tensor> logits;
  int64_t at = 0;
  for (int64_t c : chunks) {
    logits.push_back(model.forward_step(slice(tokens, 1, at, at + c), state));
    at += c;
    EXPECT_EQ(state.length, at);
  }
  return cat(logits, 1);
}

void expect_steps_match_forward(DType dtype, double tolerance) {
  for (auto& model : models(dtype)) {
    manual_seed(7);
    const Tensor tokens = random_tokens(3, 12);
    const Tensor full = (*model)(tokens);
    ASSERT_GT(max(abs(full)).item(), 1e-3) << model->describe();  // so that a small difference means something
    for (const std::vector<int64_t>& chunks : {std::vector<int64_t>(12, 1), {5, 1, 3, 3}, {1, 11}, {12}}) {
      const Tensor logits = stepped(*model, tokens, chunks);
      ASSERT_EQ(logits.shape(), full.shape());
      EXPECT_LT(max(abs(logits - full)).item(), tolerance) << model->describe() << ", " << chunks.size() << " chunks";
    }
  }
}

TEST(ForwardStep, MatchesFullForwardF64) { expect_steps_match_forward(DType::F64, 1e-10); }
TEST(ForwardStep, MatchesFullForwardF32) { expect_steps_match_forward(DType::F32, 1e-5); }

TEST(ForwardStep, IsDifferentiable) {
  auto model = models(DType::F64)[1];  // HybridLM: attention and conv caches
  nn::DecodeState state;
  const Tensor tokens = random_tokens(2, 6);
  model->forward_step(slice(tokens, 1, 0, 4), state);
  backward(sum(model->forward_step(slice(tokens, 1, 4, 6), state)));
  // The first block's conv sees the cached window: its weight gets a gradient through it.
  EXPECT_GT(max(abs(model->named_parameters().front().second.grad())).item(), 0);
}

// Argmax decoding by a full forward over the whole prefix for every token.
Tensor argmax_decode(nn::CausalLM& model, Tensor sequence, int64_t steps) {
  for (int64_t i = 0; i < steps; ++i) {
    const Tensor logits = model(sequence);
    sequence = cat({sequence, unsqueeze(argmax(select(logits, 1, logits.size(1) - 1), 1), 1)}, 1);
  }
  return sequence;
}

TEST(Generate, GreedyIsArgmaxOfFullForwards) {
  for (auto& model : models(DType::F64)) {
    manual_seed(8);
    const Tensor prompts = random_tokens(2, 3);
    const std::vector<int64_t> expected = argmax_decode(*model, prompts, 9).to_vector<int64_t>();
    for (bool cache : {true, false}) {
      const Tensor out = nn::generate(*model, prompts, {.max_new_tokens = 9, .greedy = true, .use_cache = cache});
      EXPECT_EQ(out.shape(), (Shape{2, 12}));
      EXPECT_EQ(out.to_vector<int64_t>(), expected) << model->describe() << ", cache " << cache;
    }
  }
}

TEST(Generate, EvalModeAndNoGraphThenModeRestored) {
  manual_seed(4);
  nn::GPTOptions o = lm_options(16, 1);
  o.dropout = 0.5;
  auto model = nn::GPT(o);
  model->to(DType::F64).train();
  const Tensor prompts = random_tokens(2, 2);
  const Tensor out = nn::generate(*model, prompts, {.max_new_tokens = 5, .greedy = true});
  EXPECT_TRUE(model->is_training());
  model->eval();
  EXPECT_EQ(out.to_vector<int64_t>(), argmax_decode(*model, prompts, 5).to_vector<int64_t>());
}

TEST(Generate, SamplingRepeatsUnderASeedWithOrWithoutCache) {
  for (auto& model : models(DType::F64)) {
    const Tensor prompts = random_tokens(4, 2);
    auto run = [&](uint64_t seed, bool cache) {
      manual_seed(seed);
      return nn::generate(*model, prompts, {.max_new_tokens = 10, .temperature = 2.0, .top_k = 6, .use_cache = cache})
          .to_vector<int64_t>();
    };
    const std::vector<int64_t> a = run(1, true);
    EXPECT_EQ(run(1, true), a) << model->describe();
    EXPECT_EQ(run(1, false), a) << model->describe();
    EXPECT_NE(run(2, true), a) << model->describe();  // 40 draws from 6 tokens
  }
}

TEST(Generate, TopKOneIsGreedy) {
  for (auto& model : models(DType::F64)) {
    const Tensor prompts = random_tokens(3, 4);
    EXPECT_EQ(nn::generate(*model, prompts, {.max_new_tokens = 8, .temperature = 3.0, .top_k = 1}).to_vector<int64_t>(),
              nn::generate(*model, prompts, {.max_new_tokens = 8, .greedy = true}).to_vector<int64_t>())
        << model->describe();
  }
}

// n rows of the same logits.
Tensor repeated(const std::vector<double>& row, int64_t n) {
  std::vector<double> values;
  for (int64_t i = 0; i < n; ++i) values.insert(values.end(), row.begin(), row.end());
  return from_vector<double>(values, {n, static_cast<int64_t>(row.size())});
}

// How often each token is drawn from n rows of `row`.
std::vector<double> frequencies(const std::vector<double>& row, const nn::GenerateOptions& options, int64_t n) {
  std::vector<double> counts(row.size());
  for (int64_t t : nn::sample_tokens(repeated(row, n), options).to_vector<int64_t>()) counts[static_cast<size_t>(t)] += 1;
  for (double& c : counts) c /= static_cast<double>(n);
  return counts;
}

TEST(SampleTokens, TopKSetWithSoftmaxFrequencies) {
  manual_seed(5);
  const std::vector<double> row = {0, 5, 1, 4, 2, 3};  // top 3: tokens 1, 3, 5
  const std::vector<double> f = frequencies(row, {.temperature = 2.0, .top_k = 3}, 20000);
  const double z = std::exp(2.5) + std::exp(2.0) + std::exp(1.5);
  const std::vector<double> expected = {0, std::exp(2.5) / z, 0, std::exp(2.0) / z, 0, std::exp(1.5) / z};
  for (size_t i = 0; i < row.size(); ++i) EXPECT_NEAR(f[i], expected[i], 0.01) << "token " << i;
  for (size_t i : {0, 2, 4}) EXPECT_EQ(f[i], 0) << "token " << i << " is outside the top 3";
}

TEST(SampleTokens, TiesInTheTopKGoToLowerIndicesAndMinusInfinityIsNeverDrawn) {
  manual_seed(6);
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> f = frequencies({0, 1, 1, 1, -inf}, {.top_k = 2}, 4000);
  EXPECT_NEAR(f[1], 0.5, 0.03);
  EXPECT_NEAR(f[2], 0.5, 0.03);
  EXPECT_EQ(f[0] + f[3] + f[4], 0);
  EXPECT_EQ(frequencies({-inf, 0, -inf}, {.top_k = 3}, 100)[1], 1);
  // top_k beyond the vocabulary is all of it; greedy is the argmax.
  EXPECT_EQ(frequencies({3, 1, 2}, {.temperature = 1e-3, .top_k = 10}, 100)[0], 1);
  EXPECT_EQ(nn::sample_tokens(from_vector<double>({0, 2, 1, 5, 4, 3}, {2, 3}), {.greedy = true}).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 0}));
}

TEST(TokenLogProbs, ByHandFromTheLogits) {
  auto model = models(DType::F64)[0];
  const Tensor tokens = random_tokens(2, 8);
  const Tensor lp = nn::token_log_probs(*model, tokens, 3);
  ASSERT_EQ(lp.shape(), (Shape{2, 5}));
  const std::vector<double> logits = (*model)(tokens).to_vector<double>(), got = lp.to_vector<double>();
  const std::vector<int64_t> ids = tokens.to_vector<int64_t>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t s = 3; s < 8; ++s) {
      const double* row = &logits[static_cast<size_t>((b * 8 + s - 1) * kVocab)];
      double z = 0;
      for (int64_t v = 0; v < kVocab; ++v) z += std::exp(row[v]);
      EXPECT_NEAR(got[static_cast<size_t>(b * 5 + s - 3)], row[ids[static_cast<size_t>(b * 8 + s)]] - std::log(z), 1e-12);
    }
  backward(sum(lp));
  EXPECT_GT(max(abs(model->named_parameters().front().second.grad())).item(), 0);
}

TEST(Generate, Errors) {
  auto model = models(DType::F64)[0];
  const Tensor prompts = random_tokens(2, 4);
  auto gen = [&](const Tensor& p, nn::GenerateOptions o) { return [&, p, o] { nn::generate(*model, p, o); }; };
  expect_error(gen(zeros({2, 4}), {}), "generate: prompts [2,4] (f32) must be i64 [B, P] with B, P >= 1");
  expect_error(gen(random_tokens(2, 0), {}), "generate: prompts [2,0] (i64) must be i64 [B, P]");
  expect_error(gen(randint(0, kVocab, {8}), {}), "generate: prompts [8] (i64) must be i64 [B, P]");
  expect_error(gen(prompts, {.max_new_tokens = 13}),
               "generate: prompts [2,4] plus max_new_tokens = 13 exceed the context_length 16 of GPT(");
  expect_error(gen(prompts, {.max_new_tokens = -1}), "generate: max_new_tokens must be non-negative, got -1");
  expect_error(gen(prompts, {.top_k = -2}), "generate: top_k must be non-negative (0 = all tokens), got -2");
  expect_error(gen(prompts, {.temperature = 0}), "generate: temperature must be positive and finite unless greedy, got 0");
  EXPECT_EQ(nn::generate(*model, prompts, {.max_new_tokens = 12, .temperature = 0, .greedy = true}).size(1), kContext);
  EXPECT_EQ(nn::generate(*model, prompts, {.max_new_tokens = 0}).to_vector<int64_t>(), prompts.to_vector<int64_t>());
  expect_error([] { nn::sample_tokens(zeros({4}), {}); }, "sample_tokens: logits [4] (f32) must be floating [B, V]");
  expect_error([] { nn::sample_tokens(full({1, 3}, std::nan("")), {}); }, "sample_tokens: row 0 of the logits has no finite maximum");
  expect_error([&] { nn::token_log_probs(*model, prompts, 4); }, "token_log_probs: start 4 must be in 1 .. T - 1 for tokens [2,4]");
}

TEST(ForwardStep, Errors) {
  auto model = models(DType::F64)[0];
  nn::DecodeState state;
  model->forward_step(random_tokens(2, 12), state);
  expect_error([&] { model->forward_step(random_tokens(2, 5), state); },
               "forward_step tokens [2,5] after 12 cached positions reach length 17, outside 1 .. context_length = 16");
  expect_error([&] { model->forward_step(random_tokens(3, 1), state); }, "forward_step tokens [3,1] for a state of batch 2");
  expect_error([&] { model->forward_step(random_tokens(2, 0), state); }, "after 12 cached positions reach length 12");
  // Blocks that cannot step: non-causal attention, a module without forward_step.
  const nn::GPTOptions o = lm_options(8, 1);
  nn::CausalLM bidirectional("LM", o, nn::transformer_blocks(1, {.d_model = 8, .n_heads = 2}));
  nn::DecodeState fresh;
  expect_error([&] { bidirectional.forward_step(random_tokens(1, 2), fresh); },
               "MultiHeadAttention(8, heads=2): forward_step needs causal attention");
  auto body = std::make_shared<nn::Sequential>();
  body->push_back(std::make_shared<nn::Linear>(8, 8));
  nn::CausalLM linear("LM", o, body);
  expect_error([&] { linear.forward_step(random_tokens(1, 2), fresh); }, "body block 0 Linear(8, 8");
}

}  // namespace
}  // namespace ember
