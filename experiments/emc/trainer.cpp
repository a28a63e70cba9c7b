#include "experiments/emc/trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "autograd/ops.h"
#include "experiments/emc/optimizers.h"
#include "optim/lr_schedule.h"

namespace ember::emc {
namespace {

// The number of correct predictions in a batch of logits.
double correct(const Tensor& logits, const Tensor& y) { return sum(to(eq(argmax(logits, 1), y), DType::F32)).item(); }

// Loss history, for telling a converged run from one that ran out of budget.
class LossHistory {
 public:
  void add(int64_t step, double loss) { points_.push_back({step, loss}); }
  // Whether the last `window` steps reached a loss 1% below the best one before them. Best
  // against best, so that a spike of a noisy loss curve neither hides progress nor fakes it.
  bool falling(int64_t window) const {
    const int64_t now = points_.back().step;
    double before = std::numeric_limits<double>::infinity(), since = before;
    for (const auto& p : points_) {
      double& best = p.step <= now - window ? before : since;
      best = std::min(best, p.loss);
    }
    return since < 0.99 * before;
  }

 private:
  struct Point {
    int64_t step;
    double loss;
  };
  std::vector<Point> points_;
};

}  // namespace

std::pair<double, double> evaluate(nn::Module& model, const Tensor& x, const Tensor& y, int64_t chunk) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const int64_t n = x.size(0);
  double hits = 0, loss = 0;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    Tensor xb = narrow(x, 0, start, len), yb = narrow(y, 0, start, len);
    Tensor logits = model(xb);
    hits += correct(logits, yb);
    loss += cross_entropy(logits, yb, Reduction::Sum).item();
  }
  model.train(was_training);
  return {hits / n, loss / n};
}

FitResult train_to_fit(nn::Module& model, const Tensor& x, const Tensor& y, const TrainConfig& config,
                       const TrainObserver& observer) {
  const int64_t n = x.size(0);
  const bool whole = full_batch(config.optimizer) || config.batch_size >= n;
  const int64_t batch = whole ? n : config.batch_size;
  const int64_t window =
      std::max<int64_t>(static_cast<int64_t>(config.plateau_fraction * config.steps), 2 * ((n + batch - 1) / batch));

  model.train();
  auto optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr);
  optimizer->set_schedule(cosine_schedule(config.steps));
  std::mt19937_64 rng(config.seed);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);

  FitResult result;
  LossHistory history;
  double epoch_hits = 0, epoch_loss = 0;
  int64_t epoch_seen = 0, cursor = n;
  for (int64_t step = 0; step < config.steps; ++step) {
    Tensor xb = x, yb = y;
    if (!whole) {
      if (cursor >= n) {
        std::shuffle(order.begin(), order.end(), rng);
        cursor = 0;
      }
      const int64_t len = std::min(batch, n - cursor);
      Tensor idx = from_vector(std::vector<int64_t>(order.begin() + cursor, order.begin() + cursor + len), {len});
      if (!x.device().is_cpu()) idx = to(idx, x.device());
      xb = index_select(x, 0, idx);
      yb = index_select(y, 0, idx);
      cursor += len;
    }
    Tensor logits = model(xb);
    Tensor loss = cross_entropy(logits, yb);
    const double loss_value = loss.item();
    epoch_hits += correct(logits, yb);
    epoch_loss += loss_value * yb.size(0);
    epoch_seen += yb.size(0);
    result.steps = step;
    if (!std::isfinite(loss_value)) {
      result.outcome = "not fit: diverged";
      result.loss = loss_value;
      return result;
    }
    const bool epoch_end = whole || cursor >= n;
    if (epoch_end) {
      result.train_accuracy = epoch_hits / epoch_seen;
      result.loss = epoch_loss / epoch_seen;
      epoch_hits = epoch_loss = 0;
      epoch_seen = 0;
      history.add(step, result.loss);
      if (observer) observer(step, config.steps, result.train_accuracy, result.loss);
      // The running accuracy of an epoch is a cheap trigger; with mini-batches the parameters
      // moved during the epoch, so a whole-set evaluation decides.
      if (result.train_accuracy >= config.threshold) {
        if (!whole) std::tie(result.train_accuracy, std::ignore) = evaluate(model, x, y);
        if (result.train_accuracy >= config.threshold) {
          result.fit = true;
          result.outcome = "fit";
          return result;
        }
      }
      if (step >= 0.4 * config.steps && step >= window && !history.falling(window)) {
        result.outcome = "not fit: plateau";
        return result;
      }
    }
    optimizer->zero_grad();
    backward(loss);
    optimizer->step();
  }
  result.steps = config.steps;
  auto [accuracy, loss] = evaluate(model, x, y);
  result.train_accuracy = accuracy;
  result.loss = loss;
  result.fit = accuracy >= config.threshold;
  result.outcome = result.fit ? "fit" : history.falling(window) ? kStillFalling : "not fit: budget, loss flat";
  return result;
}

}  // namespace ember::emc
