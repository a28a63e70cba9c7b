#include "experiments/rlhf/training.h"

#include <algorithm>
#include <map>
#include <random>

#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "autograd/losses.h"
#include "autograd/shape_ops.h"
#include "experiments/rlhf/losses.h"
#include "optim/adam.h"
#include "optim/clip_grad.h"
#include "tensor/creation.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ember::rlhf {

namespace {

std::map<std::string, Tensor> snapshot(nn::Module& model) {
  std::map<std::string, Tensor> copy;
  for (const auto& [name, t] : model.state_dict()) copy[name] = clone(detach(t));
  return copy;
}

}  // namespace

double pretrain(nn::CausalLM& policy, const Corpus& corpus, const PretrainOptions& o, uint64_t seed) {
  check(o.steps >= 1 && o.batch >= 1, "rlhf: pre-training needs steps >= 1 and batch >= 1");
  const int64_t length = policy.options().context_length;
  Adam optimizer(policy.parameters(), {.lr = o.lr});
  optimizer.set_schedule(cosine_schedule(o.steps, std::max(1, o.steps / 20), 0.1));
  policy.train();
  for (int step = 0; step < o.steps; ++step) {
    Tensor windows = training_windows(corpus, o.batch, length, seed, static_cast<uint64_t>(step));
    Tensor logits = policy.forward(slice(windows, 1, 0, length));
    Tensor loss = cross_entropy(reshape(logits, {-1, 256}), reshape(slice(windows, 1, 1, length + 1), {-1}));
    optimizer.zero_grad();
    backward(loss);
    clip_grad_norm(policy.parameters(), 1.0);
    optimizer.step();
  }
  policy.eval();
  NoGradGuard no_grad;
  Corpus held_out{corpus.validation, corpus.validation};
  Tensor windows = training_windows(held_out, 64, length, seed + 1, 0);
  Tensor logits = policy.forward(slice(windows, 1, 0, length));
  return cross_entropy(reshape(logits, {-1, 256}), reshape(slice(windows, 1, 1, length + 1), {-1})).item();
}

std::vector<double> score_texts(RewardModel& model, const std::vector<std::string>& texts, int64_t batch) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<double> scores;
  scores.reserve(texts.size());
  for (size_t start = 0; start < texts.size(); start += static_cast<size_t>(batch)) {
    const size_t end = std::min(texts.size(), start + static_cast<size_t>(batch));
    const auto s = model.forward(encode({texts.begin() + start, texts.begin() + end})).to_vector<float>();
    scores.insert(scores.end(), s.begin(), s.end());
  }
  if (was_training) model.train();
  return scores;
}

double pair_accuracy(const std::vector<double>& scores, const Pool& pool, const std::vector<Pair>& pairs,
                     bool by_gold) {
  check(!pairs.empty(), "rlhf: no pairs to score");
  int64_t right = 0;
  for (const auto& p : pairs) {
    const bool a_better = by_gold ? pool.gold[p.a] > pool.gold[p.b] : p.a_preferred;
    right += (scores[p.a] > scores[p.b]) == a_better;
  }
  return static_cast<double>(right) / static_cast<double>(pairs.size());
}

RewardTrainResult train_reward_model(RewardModel& model, const Pool& pool, const PreferenceData& data,
                                     int64_t train_pairs, const RewardTrainOptions& o, uint64_t seed) {
  check(train_pairs >= 1 && train_pairs <= static_cast<int64_t>(data.train.size()), "rlhf: ", train_pairs,
        " training pairs asked, ", data.train.size(), " available");
  check(o.steps >= 1 && o.batch >= 1 && o.eval_every >= 1, "rlhf: reward training needs positive steps, batch, eval_every");
  Adam optimizer(model.parameters(), {.lr = o.lr});
  optimizer.set_schedule(cosine_schedule(o.steps, std::max(1, o.steps / 20), 0.1));
  std::mt19937_64 rng(seed * 31337ULL + 5);
  std::uniform_int_distribution<int64_t> pick(0, train_pairs - 1);
  RewardTrainResult result;
  result.validation_accuracy = -1;
  std::map<std::string, Tensor> best;
  // Checks score only the held-out items: the training items are most of the pool.
  std::vector<int64_t> heldout;
  for (const auto* pairs : {&data.validation, &data.test})
    for (const auto& p : *pairs) heldout.push_back(p.a), heldout.push_back(p.b);
  std::sort(heldout.begin(), heldout.end());
  heldout.erase(std::unique(heldout.begin(), heldout.end()), heldout.end());
  std::vector<std::string> heldout_texts;
  for (int64_t i : heldout) heldout_texts.push_back(pool.texts[i]);
  auto evaluate = [&](int step) {
    std::vector<double> scores(pool.texts.size(), 0.0);
    const auto s = score_texts(model, heldout_texts);
    for (size_t k = 0; k < heldout.size(); ++k) scores[heldout[k]] = s[k];
    const double val = pair_accuracy(scores, pool, data.validation, false);
    if (val > result.validation_accuracy) {
      result.validation_accuracy = val;
      result.test_accuracy = pair_accuracy(scores, pool, data.test, false);
      result.test_gold_accuracy = pair_accuracy(scores, pool, data.test, true);
      result.best_step = step;
      best = snapshot(model);
    }
  };
  model.train();
  for (int step = 0; step < o.steps; ++step) {
    std::vector<std::string> chosen, rejected;
    for (int i = 0; i < o.batch; ++i) {
      const Pair& p = data.train[static_cast<size_t>(pick(rng))];
      chosen.push_back(pool.texts[p.a_preferred ? p.a : p.b]);
      rejected.push_back(pool.texts[p.a_preferred ? p.b : p.a]);
    }
    chosen.insert(chosen.end(), rejected.begin(), rejected.end());
    Tensor scores = model.forward(encode(chosen));
    Tensor loss = bradley_terry_loss(narrow(scores, 0, 0, o.batch), narrow(scores, 0, o.batch, o.batch));
    optimizer.zero_grad();
    backward(loss);
    clip_grad_norm(model.parameters(), 1.0);
    optimizer.step();
    if ((step + 1) % o.eval_every == 0 || step + 1 == o.steps) evaluate(step + 1);
  }
  result.stopped_improving = result.best_step < o.steps;
  model.load_state_dict(best);
  model.eval();
  return result;
}

}  // namespace ember::rlhf
