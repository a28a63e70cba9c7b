// A tiny rlhf reward model learns a trivially separable preference set, of both families.
#include <gtest/gtest.h>

#include <random>

#include "experiments/rlhf/training.h"
#include "tensor/error.h"
#include "tensor/random.h"

using namespace ember;
using namespace ember::rlhf;

namespace {

// 30 texts of the letters a-e (gold 1) and 30 of v-z (gold 0), 8 bytes each.
Pool separable_pool() {
  std::mt19937_64 rng(5);
  Pool pool;
  for (int i = 0; i < 60; ++i) {
    const char base = i % 2 ? 'a' : 'v';
    std::string t;
    for (int k = 0; k < 8; ++k) t += static_cast<char>(base + rng() % 5);
    pool.texts.push_back(t);
    pool.gold.push_back(i % 2 ? 1.0 : 0.0);
  }
  return pool;
}

}  // namespace

TEST(RlhfRewardModel, LearnsSeparablePreferences) {
  const Pool pool = separable_pool();
  const auto data = make_preferences(pool, 200, 60, 0.01, 1);
  EXPECT_LT(data.label_noise, 0.01);  // the annotator is near-deterministic at this temperature
  for (Family family : {Family::Transformer, Family::Hybrid}) {
    manual_seed(2);
    RewardModel model({.family = family, .d_model = 8, .length = 8});
    train_reward_model(model, pool, data, 200, {.steps = 60, .batch = 16, .eval_every = 20, .lr = 1e-2}, 3);
    const auto scores = score_texts(model, pool.texts);
    int right = 0, total = 0;
    for (size_t i = 0; i < pool.texts.size(); ++i)
      for (size_t j = 0; j < pool.texts.size(); ++j)
        if (pool.gold[i] > pool.gold[j]) ++total, right += scores[i] > scores[j];
    EXPECT_GT(static_cast<double>(right) / total, 0.95) << family_name(family);
  }
}

TEST(RlhfRewardModel, BadInput) {
  RewardModel model({.family = Family::Transformer, .d_model = 8, .length = 8});
  EXPECT_THROW(model.forward(encode({"abc"})), Error);  // wrong length
  EXPECT_THROW(RewardModel({.d_model = 12}), Error);     // not a multiple of 8
  EXPECT_THROW(parse_family("cnn"), Error);
  const Pool pool = separable_pool();
  const auto data = make_preferences(pool, 20, 10, 0.1, 1);
  EXPECT_THROW(train_reward_model(model, pool, data, 21, {}, 1), Error);  // more pairs than drawn
}
