// The hyena experiment's models: each overfits one batch; the mixers refuse lengths they cannot
// take; standard attention matches the fused kernel.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "experiments/hyena/mixers.h"
#include "experiments/hyena/standard_attention.h"
#include "experiments/hyena/train.h"
#include "nn/layers/attention.h"
#include "tensor/creation.h"
#include "tensor/error.h"
#include "tensor/random.h"

using namespace ember;
using namespace ember::hyena;

namespace {

// One fixed batch of random byte-like tokens: a model that memorises it drives the loss down.
double overfit(const std::string& kind) {
  manual_seed(1);
  const Tensor tokens = randint(0, 16, {4, 17});
  auto model = sequence_model(kind, {.vocab_size = 16, .context_length = 16, .d_model = 32, .n_layers = 2, .n_heads = 2});
  const TrainOptions options{.steps = 150, .batch = 4, .lr = 1e-2, .weight_decay = 0, .warmup_fraction = 0};
  auto opt = make_optimizer(*model, options);
  double loss = 0;
  for (int step = 0; step < options.steps; ++step)
    loss = train_step(*model, *opt, options, slice(tokens, 1, 0, 16), slice(tokens, 1, 1, 17));
  return loss;
}

}  // namespace

TEST(HyenaModels, EachOverfitsOneBatch) {
  // Chance is log 16 = 2.77 nats; a memorised batch is far below.
  for (const std::string kind : {"hyena", "attention", "longconv", "hyena-explicit"}) EXPECT_LT(overfit(kind), 0.5) << kind;
}

TEST(HyenaModels, LengthsBeyondTheOperatorsAreRefused) {
  manual_seed(0);
  auto hyena = sequence_model("hyena", {.vocab_size = 8, .context_length = 8, .d_model = 16, .n_layers = 1});
  EXPECT_THROW(hyena->forward(randint(0, 8, {1, 9})), ember::Error);
  ConvMixer mixer(16, 8, {.gated = false});
  EXPECT_THROW(mixer.forward(randn({1, 9, 16})), ember::Error);
  EXPECT_THROW(mixer.forward(randn({1, 8, 15})), ember::Error);
  EXPECT_THROW(sequence_model("mamba", {.vocab_size = 8}), ember::Error);
}

TEST(HyenaModels, ConvMixersAreCausal) {
  manual_seed(0);
  for (bool gated : {false, true})
    for (bool explicit_filter : {false, true}) {
      ConvMixer mixer(8, 12, {.gated = gated, .explicit_filter = explicit_filter});
      const Tensor x = randn({1, 12, 8});
      Tensor changed = clone(x);
      NoGradGuard no_grad;
      add_(slice(changed, 1, 7, 12), randn({1, 5, 8}));  // only positions 7.. differ
      const auto a = slice(mixer.forward(x), 1, 0, 7).to_vector<float>();
      const auto b = slice(mixer.forward(changed), 1, 0, 7).to_vector<float>();
      for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5) << gated << explicit_filter;
    }
}

TEST(HyenaModels, StandardAttentionMatchesTheFusedKernel) {
  manual_seed(0);
  StandardAttention standard(16, 2);
  nn::MultiHeadAttention fused(16, 2, true);
  fused.load_state_dict(standard.state_dict());
  const Tensor x = randn({2, 10, 16});
  const auto a = standard.forward(x).to_vector<float>(), b = fused.forward(x).to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4);
}
