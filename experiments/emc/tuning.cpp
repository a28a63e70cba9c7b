#include "experiments/emc/tuning.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "experiments/emc/optimizers.h"
#include "tensor/error.h"

namespace ember::emc {

TunedRate tune_learning_rate(const std::string& optimizer, const std::function<double(double lr)>& score) {
  const auto [centre, lowest, highest] = learning_rate_range(optimizer);
  const double step = std::sqrt(10.0);
  std::map<int, double> scores;  // grid index (rate = centre * step^index) -> score
  auto rate = [&](int i) { return centre * std::pow(step, i); };
  auto allowed = [&](int i) { return rate(i) >= lowest * 0.999 && rate(i) <= highest * 1.001; };
  auto evaluate = [&](int i) {
    if (!scores.count(i)) scores[i] = score(rate(i));
  };
  for (int i : {-1, 0, 1}) evaluate(i);
  for (;;) {
    // The best score; ties go to the smaller rate (the safer one).
    int best = scores.begin()->first;
    for (const auto& [i, s] : scores)
      if (s > scores[best]) best = i;
    const int next = best == scores.begin()->first ? best - 1 : best == scores.rbegin()->first ? best + 1 : best;
    if (next == best || !allowed(next)) {
      TunedRate out{.lr = rate(best), .tried = {}, .at_limit = next != best};
      for (const auto& [i, s] : scores) out.tried.push_back(rate(i));
      return out;
    }
    evaluate(next);
  }
}

double tuning_score(bool fit, double train_accuracy, int64_t epochs, int64_t budget) {
  check(budget >= 1, "tuning_score: budget must be positive");
  return train_accuracy + (fit ? 0.5 * (1.0 - static_cast<double>(epochs) / static_cast<double>(budget)) : 0.0);
}

}  // namespace ember::emc
