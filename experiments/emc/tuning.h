#pragma once
// Learning-rate tuning over a log grid (steps of sqrt(10)) that brackets the optimum: it
// starts with three rates around the optimizer's usual one and extends the grid while the
// best rate sits on an edge, up to the optimizer's limits. A rate's score is averaged over
// several seeds, so one lucky initialisation does not pick it.
#include <functional>
#include <string>
#include <vector>

namespace ember::emc {

struct TunedRate {
  double lr = 0;
  std::vector<double> tried;  // ascending
  bool at_limit = false;      // the best rate is the optimizer's smallest or largest allowed one
};

// score(lr) is higher for a better rate (already averaged over seeds).
TunedRate tune_learning_rate(const std::string& optimizer, const std::function<double(double lr)>& score);

// The score of one tuning run: the training accuracy reached, plus up to 0.5 for fitting
// early (1 - epochs / budget): fitting beats not fitting, fitting sooner beats fitting later.
double tuning_score(bool fit, double train_accuracy, int64_t epochs, int64_t budget);

}  // namespace ember::emc
