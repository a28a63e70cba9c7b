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

// How much the best loss of the last `window` epochs fell below the best one before them
// (relative). Best against best, so that a spike of a noisy curve neither hides progress nor fakes it.
double fall(const std::vector<double>& losses, int64_t window) {
  const int64_t now = static_cast<int64_t>(losses.size());
  if (now <= window) return 1;
  double before = std::numeric_limits<double>::infinity(), since = before;
  for (int64_t e = 0; e < now; ++e) {
    double& best = e < now - window ? before : since;
    best = std::min(best, losses[e]);
  }
  return before > 0 ? 1 - since / before : 0;
}

}  // namespace

std::string outcome_name(Outcome o) {
  switch (o) {
    case Outcome::Fit: return "fit";
    case Outcome::Converged: return "converged";
    case Outcome::Budget: return "budget";
    case Outcome::Diverged: return "diverged";
  }
  return "budget";
}

bool capacity_failure(const FitResult& r) { return r.outcome == Outcome::Converged; }

int64_t steps_per_epoch(const std::string& optimizer, int64_t n, int64_t batch_size) {
  check(n >= 1 && batch_size >= 1, "steps_per_epoch: n ", n, " and batch size ", batch_size, " must be positive");
  return full_batch(optimizer) ? 1 : (n + batch_size - 1) / batch_size;
}

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

double gradient_norm(nn::Module& model, const Tensor& x, const Tensor& y, int64_t chunk) {
  const int64_t n = x.size(0);
  model.zero_grad();
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    Tensor loss = cross_entropy(model(narrow(x, 0, start, len)), narrow(y, 0, start, len), Reduction::Sum) *
                  (1.0 / static_cast<double>(n));
    backward(loss);
  }
  double squares = 0;
  for (const Tensor& p : model.parameters()) {
    if (!p.grad().defined()) continue;
    squares += sum(mul(p.grad(), p.grad())).item();
  }
  model.zero_grad();
  return std::sqrt(squares);
}

FitResult train_to_fit(nn::Module& model, const Tensor& x, const Tensor& y, const TrainConfig& config,
                       const TrainObserver& observer) {
  check(config.epochs >= 1, "train_to_fit: the budget must be at least one epoch, not ", config.epochs);
  const int64_t n = x.size(0);
  const int64_t per_epoch = steps_per_epoch(config.optimizer, n, config.batch_size);
  const bool whole = per_epoch == 1;
  const int64_t batch = whole ? n : config.batch_size;

  model.train();
  const double initial_gradient = std::max(gradient_norm(model, x, y), 1e-12);
  auto optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr);
  optimizer->set_schedule(cosine_schedule(config.epochs * per_epoch));
  std::mt19937_64 rng(config.seed);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);

  FitResult result;
  std::vector<double> losses;
  // Converged: the loss has plateaued and the full-batch gradient is small.
  auto converged = [&](int64_t epochs_run) {
    const int64_t window = std::max<int64_t>(config.min_window, static_cast<int64_t>(config.plateau_fraction * epochs_run));
    if (epochs_run <= window) return false;
    result.loss_fall = fall(losses, window);
    if (result.loss_fall >= config.plateau_tolerance) return false;
    result.gradient_ratio = gradient_norm(model, x, y) / initial_gradient;
    return result.gradient_ratio <= config.gradient_tolerance;
  };
  for (int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double hits = 0, loss_sum = 0;
    for (int64_t start = 0; start < n; start += batch) {
      Tensor xb = x, yb = y;
      const int64_t len = std::min(batch, n - start);
      if (!whole) {
        Tensor idx = from_vector(std::vector<int64_t>(order.begin() + start, order.begin() + start + len), {len});
        if (!x.device().is_cpu()) idx = to(idx, x.device());
        xb = index_select(x, 0, idx);
        yb = index_select(y, 0, idx);
      }
      Tensor logits = model(xb);
      Tensor loss = cross_entropy(logits, yb);
      const double loss_value = loss.item();
      if (!std::isfinite(loss_value)) {
        result.outcome = Outcome::Diverged;
        result.loss = loss_value;
        return result;
      }
      hits += correct(logits, yb);
      loss_sum += loss_value * static_cast<double>(len);
      optimizer->zero_grad();
      backward(loss);
      optimizer->step();
      ++result.steps;
    }
    result.epochs = epoch;
    result.train_accuracy = hits / n;
    result.loss = loss_sum / n;
    losses.push_back(result.loss);
    if (observer) observer(epoch, config.epochs, result.train_accuracy, result.loss);
    // The running accuracy of an epoch is a cheap trigger; the parameters moved during the
    // epoch, so a whole-set evaluation decides.
    if (result.train_accuracy >= config.threshold || epoch == config.epochs) {
      result.train_accuracy = evaluate(model, x, y).first;
      if (result.train_accuracy >= config.threshold) {
        result.outcome = Outcome::Fit;
        return result;
      }
    }
    const bool check_now = epoch == config.epochs || (epoch >= 0.4 * config.epochs && epoch % config.check_every == 0);
    if (check_now && converged(epoch)) {
      result.outcome = Outcome::Converged;
      return result;
    }
  }
  result.outcome = Outcome::Budget;
  result.loss_fall = fall(losses, std::max<int64_t>(config.min_window, static_cast<int64_t>(config.plateau_fraction * config.epochs)));
  result.gradient_ratio = gradient_norm(model, x, y) / initial_gradient;
  return result;
}

}  // namespace ember::emc
