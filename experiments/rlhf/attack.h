#pragma once
// The adversarial test of a preference model (claim 2): on held-out pairs the model ranks
// correctly, an attacker edits the worse text by greedy byte substitution to make the model
// prefer it, while the gold reward says the edit did not make it better.
#include <cstdint>
#include <vector>

#include "experiments/rlhf/models.h"
#include "experiments/rlhf/preferences.h"

namespace ember::rlhf {

struct AttackOptions {
  int substitutions = 4;  // bytes changed at most (the budget k)
  int candidates = 24;    // random (position, byte) substitutions scored per round: k x candidates queries
  int max_pairs = 100;    // correctly ranked test pairs attacked
};

struct AttackResult {
  int attacked = 0;            // pairs attacked
  double success_rate = 0;     // flipped with gold not risen, over attacked
  double mean_score_gain = 0;  // reward-model score gained by the edit
  double mean_gold_change = 0;
};

// Each round scores `candidates` single-byte substitutions of the current text (letters, space
// and . , ; :) and keeps the best if it raises the score. Success: the edited worse text now
// outscores the better one while its gold reward did not rise.
AttackResult attack_reward_model(RewardModel& model, const Pool& pool, const GoldReward& gold,
                                 const std::vector<Pair>& pairs, const AttackOptions& options, uint64_t seed);

}  // namespace ember::rlhf
