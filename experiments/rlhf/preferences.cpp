#include "experiments/rlhf/preferences.h"

#include <algorithm>
#include <numeric>

#include "nn/generate.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ember::rlhf {

void Pool::append(const Pool& other) {
  texts.insert(texts.end(), other.texts.begin(), other.texts.end());
  gold.insert(gold.end(), other.gold.begin(), other.gold.end());
}

Tensor encode(const std::vector<std::string>& texts) {
  check(!texts.empty(), "rlhf: nothing to encode");
  const size_t length = texts.front().size();
  std::vector<int64_t> tokens;
  tokens.reserve(texts.size() * length);
  for (const auto& t : texts) {
    check(t.size() == length, "rlhf: texts to encode must have one length, got ", t.size(), " and ", length);
    for (char c : t) tokens.push_back(static_cast<uint8_t>(c));
  }
  return from_vector(tokens, {static_cast<int64_t>(texts.size()), static_cast<int64_t>(length)});
}

std::string decode(const std::vector<int64_t>& tokens) {
  std::string s;
  for (int64_t t : tokens) s += static_cast<char>(static_cast<uint8_t>(t));
  return s;
}

Pool sample_pool(nn::CausalLM& policy, const Corpus& corpus, const GoldReward& gold, int64_t count,
                 const SamplingOptions& o, uint64_t seed) {
  check(count >= 1, "rlhf: a pool needs at least one continuation, got ", count);
  manual_seed(seed);
  Tensor all_prompts = prompts(corpus, count, o.prompt_length, seed);
  Pool pool;
  for (int64_t start = 0; start < count; start += o.batch) {
    const int64_t n = std::min(o.batch, count - start);
    Tensor out = nn::generate(policy, narrow(all_prompts, 0, start, n),
                              {.max_new_tokens = o.continuation_length, .temperature = o.temperature});
    const auto tokens = contiguous(narrow(out, 1, o.prompt_length, o.continuation_length)).to_vector<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      pool.texts.push_back(decode({tokens.begin() + i * o.continuation_length,
                                   tokens.begin() + (i + 1) * o.continuation_length}));
      pool.gold.push_back(gold(pool.texts.back()));
    }
  }
  return pool;
}

PreferenceData make_preferences(const Pool& pool, int64_t train_pairs, int64_t heldout_pairs, double temperature,
                                uint64_t seed) {
  const auto n = static_cast<int64_t>(pool.texts.size());
  check(n >= 40, "rlhf: a pool of ", n, " continuations is too small to pair (40 or more)");
  check(train_pairs >= 1 && heldout_pairs >= 1, "rlhf: pair counts must be positive");
  std::mt19937_64 rng(seed * 7919ULL + 17);
  std::vector<int64_t> items(static_cast<size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  std::shuffle(items.begin(), items.end(), rng);
  const int64_t n_train = n * 70 / 100, n_val = n * 15 / 100;
  int64_t disagree = 0, labels = 0;
  auto draw = [&](int64_t from, int64_t size, int64_t count) {
    std::vector<Pair> pairs;
    std::uniform_int_distribution<int64_t> pick(0, size - 1);
    while (static_cast<int64_t>(pairs.size()) < count) {
      const int64_t a = items[from + pick(rng)], b = items[from + pick(rng)];
      if (a == b || pool.texts[a] == pool.texts[b]) continue;
      Pair p{a, b, annotate(pool.gold[a], pool.gold[b], temperature, rng)};
      ++labels;
      disagree += (p.a_preferred != (pool.gold[a] > pool.gold[b])) && pool.gold[a] != pool.gold[b];
      pairs.push_back(p);
    }
    return pairs;
  };
  PreferenceData data;
  data.train = draw(0, n_train, train_pairs);
  data.validation = draw(n_train, n_val, heldout_pairs);
  data.test = draw(n_train + n_val, n - n_train - n_val, heldout_pairs);
  data.label_noise = static_cast<double>(disagree) / static_cast<double>(labels);
  return data;
}

}  // namespace ember::rlhf
