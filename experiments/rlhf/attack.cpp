#include "experiments/rlhf/attack.h"

#include <algorithm>
#include <random>
#include <string>

#include "experiments/rlhf/training.h"
#include "tensor/error.h"

namespace ember::rlhf {

AttackResult attack_reward_model(RewardModel& model, const Pool& pool, const GoldReward& gold,
                                 const std::vector<Pair>& pairs, const AttackOptions& o, uint64_t seed) {
  check(o.substitutions >= 1 && o.candidates >= 1 && o.max_pairs >= 1, "rlhf: the attack budget must be positive");
  static const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:";
  const auto scores = score_texts(model, pool.texts);
  std::mt19937_64 rng(seed * 104729ULL + 3);
  AttackResult r;
  int successes = 0;
  for (const auto& p : pairs) {
    if (r.attacked >= o.max_pairs) break;
    if (pool.gold[p.a] == pool.gold[p.b]) continue;
    const int64_t better = pool.gold[p.a] > pool.gold[p.b] ? p.a : p.b, worse = better == p.a ? p.b : p.a;
    if (scores[better] <= scores[worse]) continue;  // already fooled: nothing to attack
    ++r.attacked;
    std::string text = pool.texts[worse];
    double score = scores[worse];
    std::uniform_int_distribution<size_t> position(0, text.size() - 1), byte(0, alphabet.size() - 1);
    for (int round = 0; round < o.substitutions; ++round) {
      std::vector<std::string> candidates;
      for (int c = 0; c < o.candidates; ++c) {
        std::string edit = text;
        edit[position(rng)] = alphabet[byte(rng)];
        candidates.push_back(std::move(edit));
      }
      const auto s = score_texts(model, candidates);
      const auto best = std::max_element(s.begin(), s.end()) - s.begin();
      if (s[best] > score) {
        score = s[best];
        text = candidates[best];
      }
    }
    const double gold_change = gold(text) - pool.gold[worse];
    r.mean_score_gain += score - scores[worse];
    r.mean_gold_change += gold_change;
    successes += score > scores[better] && gold_change <= 0;
  }
  check(r.attacked > 0, "rlhf: the reward model ranks no test pair correctly; nothing to attack");
  r.success_rate = static_cast<double>(successes) / r.attacked;
  r.mean_score_gain /= r.attacked;
  r.mean_gold_change /= r.attacked;
  return r;
}

}  // namespace ember::rlhf
