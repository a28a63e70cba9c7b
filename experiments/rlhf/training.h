#pragma once
// Training the models: pre-training a policy on the corpus (next-byte cross-entropy) and
// training a preference model on labelled pairs (Bradley-Terry loss), plus scoring texts with it.
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/rlhf/corpus.h"
#include "experiments/rlhf/models.h"
#include "experiments/rlhf/preferences.h"

namespace ember::rlhf {

struct PretrainOptions {
  int steps = 300, batch = 32;
  double lr = 3e-3;
};
// Adam with a linear warm-up and cosine decay; returns the validation loss (nats per byte) at the end.
double pretrain(nn::CausalLM& policy, const Corpus& corpus, const PretrainOptions& options, uint64_t seed);

// Scores of texts (equal length) in batches, without the graph.
std::vector<double> score_texts(RewardModel& model, const std::vector<std::string>& texts, int64_t batch = 256);

struct RewardTrainOptions {
  int steps = 300, batch = 32, eval_every = 50;
  double lr = 2e-3;
};
struct RewardTrainResult {
  double test_accuracy = 0;  // agreement with the held-out labels, at the best validation check
  double test_gold_accuracy = 0;  // agreement with the gold order on the same pairs
  double validation_accuracy = 0;
  int best_step = 0;
  bool stopped_improving = false;  // the best check came before the last one (training ran long enough)
};
// Trains on the first `train_pairs` training pairs (batches drawn from `seed`); keeps the weights
// of the best validation check.
RewardTrainResult train_reward_model(RewardModel& model, const Pool& pool, const PreferenceData& data,
                                     int64_t train_pairs, const RewardTrainOptions& options, uint64_t seed);

// Fraction of pairs whose preferred item (by label, or by gold when `by_gold`) scores higher.
double pair_accuracy(const std::vector<double>& scores, const Pool& pool, const std::vector<Pair>& pairs,
                     bool by_gold);

}  // namespace ember::rlhf
