#pragma once
// Simulated preference data: continuations sampled from the pre-trained policies, scored by the
// gold reward, and paired; each pair is labelled by the Bradley-Terry annotator of gold.h.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "experiments/rlhf/corpus.h"
#include "experiments/rlhf/gold.h"
#include "nn/models/gpt.h"

namespace ember::rlhf {

// Continuations (the bytes after the prompt) and their gold rewards.
struct Pool {
  std::vector<std::string> texts;
  std::vector<double> gold;
  void append(const Pool& other);
};

struct SamplingOptions {
  int64_t prompt_length = 16, continuation_length = 32;
  double temperature = 1.0;
  int64_t batch = 64;  // prompts sampled at once
};

// `count` continuations of validation prompts drawn from `seed` (the sampling draws come from
// the global generator, seeded here too).
Pool sample_pool(nn::CausalLM& policy, const Corpus& corpus, const GoldReward& gold, int64_t count,
                 const SamplingOptions& options, uint64_t seed);

// A comparison of pool items a and b; `a_preferred` is the annotator's label.
struct Pair {
  int64_t a = 0, b = 0;
  bool a_preferred = true;
};

// Pairs in three splits over disjoint items of the pool (70% / 15% / 15% of the items), so a
// held-out pair never shows the model a text it was trained on.
struct PreferenceData {
  std::vector<Pair> train, validation, test;
  double label_noise = 0;  // fraction of all labels that disagree with the gold order
};
PreferenceData make_preferences(const Pool& pool, int64_t train_pairs, int64_t heldout_pairs, double temperature,
                                uint64_t seed);

// Texts of equal length as i64 tokens [N, L].
Tensor encode(const std::vector<std::string>& texts);
std::string decode(const std::vector<int64_t>& tokens);

}  // namespace ember::rlhf
