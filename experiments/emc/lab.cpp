#include "experiments/emc/lab.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "experiments/common/markdown.h"
#include "experiments/common/transforms.h"
#include "experiments/emc/optimizers.h"
#include "tensor/random.h"

namespace ember::emc {
namespace {

using experiments::format_number;
using experiments::Record;

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The seed of one training run: the same (seed, n) draws the same subset and initial weights
// in every condition, so comparisons between conditions are paired.
uint64_t run_seed(uint64_t base, int seed, int64_t n) {
  return splitmix(splitmix(base ^ (static_cast<uint64_t>(seed) << 32)) ^ static_cast<uint64_t>(n));
}

// Tuning runs use seeds of their own, never those of the measurements.
constexpr int kTuningSeedBase = 1000;

}  // namespace

std::string Request::key() const {
  return model.name() + "|" + data.name() + "|" + optimizer + (test_accuracy ? "|test" : "");
}

int64_t budget_epochs(const Scale& scale, const Request&) { return scale.epochs; }

Lab::Lab(const experiments::RunOptions& options, Scale scale)
    : options_(options), scale_(std::move(scale)), data_(options.data, scale_.held_out, options.seed) {}

FitResult Lab::fit(const Request& request, double lr, int64_t n, uint64_t seed, experiments::Progress& progress,
                   nn::ModulePtr* trained) {
  const experiments::Dataset& pool = data_.pool(request.data);
  const experiments::Dataset train = experiments::subset(pool, experiments::sample_indices(pool.size(), n, seed));
  auto [x, y] = experiments::to_tensors(train, options_.device);
  manual_seed(seed + 1);
  auto model = build_model(request.model, pool.sample_shape, pool.num_classes);
  model->to(options_.device);
  const TrainConfig config{.optimizer = request.optimizer,
                           .lr = lr,
                           .batch_size = scale_.batch_size,
                           .epochs = budget_epochs(scale_, request),
                           .seed = seed + 2};
  const std::string what = request.key() + " n=" + std::to_string(n);
  auto observer = [&](int64_t epoch, int64_t epochs, double accuracy, double loss) {
    if (!progress.due()) return;
    progress.line("  " + what + "  epoch " + std::to_string(epoch) + "/" + std::to_string(epochs) + "  acc " +
                  format_number(accuracy, 4) + "  loss " + format_number(loss));
  };
  const FitResult r = train_to_fit(*model, x, y, config, observer);
  if (trained) *trained = model;
  return r;
}

const TunedRate& Lab::learning_rate(const ModelSpec& model, const DataSpec& data, const std::string& optimizer,
                                    experiments::Progress& progress) {
  // Tuned per model and optimizer on random labels of the data set at n = parameters / divisor,
  // near the capacity of the models here, where a rate too high or too low shows (tuned far
  // below capacity, the highest rate wins by fitting fastest and then fails larger sets).
  const DataSpec tuning_data{.dataset = data.dataset, .labels = "random", .downsample = data.downsample};
  const std::string key = model.name() + "|" + tuning_data.name() + "|" + optimizer;
  if (auto it = tuned_.find(key); it != tuned_.end()) return it->second;
  const Request tuning{.model = model, .data = tuning_data, .optimizer = optimizer};
  const auto& pool = data_.pool(tuning_data);
  const int64_t params = count_parameters(model, pool.sample_shape, pool.num_classes);
  const int64_t most = std::min(pool.size(), scale_.max_n);
  const int64_t n = std::clamp<int64_t>(params / scale_.tune_divisor, 8, most);
  const int64_t budget = budget_epochs(scale_, tuning);
  TunedRate tuned = tune_learning_rate(optimizer, [&](double lr) {
    double total = 0;
    for (int s = 0; s < scale_.tune_seeds; ++s) {
      const FitResult r = fit(tuning, lr, n, run_seed(options_.seed, kTuningSeedBase + s, n), progress);
      total += tuning_score(r.fit(), std::isfinite(r.loss) ? r.train_accuracy : 0.0, r.epochs, budget);
    }
    return total / scale_.tune_seeds;
  });
  progress.line("lr tuning " + key + " at n=" + std::to_string(n) + ": " +
                format_number(tuned.lr) + (tuned.at_limit ? " (at the limit of the range)" : ""));
  return tuned_[key] = tuned;
}

Record Lab::measure(const Request& request, int seed, experiments::Progress& progress) {
  const auto start = std::chrono::steady_clock::now();
  const TunedRate& tuned = learning_rate(request.model, request.data, request.optimizer, progress);
  const experiments::Dataset& pool = data_.pool(request.data);
  SearchOptions search = scale_.search;
  search.max_n = std::min(scale_.max_n, pool.size());
  if (request.model.arch == "linear") search.start = 8;
  std::map<int64_t, FitResult> probes;
  const SearchResult result = find_emc(
      [&](int64_t n) {
        const FitResult r = fit(request, tuned.lr, n, run_seed(options_.seed, seed, n), progress);
        probes[n] = r;
        progress.line("  " + request.key() + " seed " + std::to_string(seed) + " n=" + std::to_string(n) + ": " +
                      outcome_name(r.outcome) + " after " + std::to_string(r.epochs) + " epochs (accuracy " +
                      format_number(r.train_accuracy, 4) + ", gradient " + format_number(r.gradient_ratio, 2) +
                      " of initial, loss fell " + format_number(100 * r.loss_fall, 2) + "% over the last quarter)");
        return r.fit();
      },
      search);
  int converged = 0, budget = 0, diverged = 0, fits = 0;
  for (const auto& [n, r] : probes) {
    fits += r.fit();
    converged += r.outcome == Outcome::Converged;
    budget += r.outcome == Outcome::Budget;
    diverged += r.outcome == Outcome::Diverged;
  }
  std::string bound = "none";
  double bound_gradient = std::numeric_limits<double>::quiet_NaN();
  int64_t bound_epochs = 0;
  if (result.first_failure > 0 && probes.count(result.first_failure)) {
    const FitResult& r = probes.at(result.first_failure);
    bound = outcome_name(r.outcome);
    bound_gradient = r.gradient_ratio;
    bound_epochs = r.epochs;
  }
  std::string grid;
  for (double lr : tuned.tried) grid += (grid.empty() ? "" : " ") + format_number(lr);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress.line(request.key() + " seed " + std::to_string(seed) + ": EMC " + (result.censored ? ">= " : "") +
                std::to_string(result.emc) + ", bounded by a " + bound + " probe (" +
                std::to_string(probes.size()) + " probes)");
  return {{"key", request.key()},
          {"kind", "emc"},
          {"model", request.model.name()},
          {"arch", request.model.arch},
          {"activation", request.model.activation},
          {"params", count_parameters(request.model, pool.sample_shape, pool.num_classes)},
          {"data", request.data.name()},
          {"optimizer", request.optimizer},
          {"lr", tuned.lr},
          {"lr_grid", grid},
          {"lr_at_limit", tuned.at_limit},
          {"seed", seed},
          {"epochs", budget_epochs(scale_, request)},
          {"max_n", search.max_n},
          {"emc", result.emc},
          {"censored", result.censored},
          {"first_failure", result.first_failure},
          {"bound", bound},
          {"bound_epochs", bound_epochs},
          {"bound_gradient_ratio", bound_gradient},
          {"probes", static_cast<int>(probes.size())},
          {"fits", fits},
          {"converged", converged},
          {"budget", budget},
          {"diverged", diverged},
          {"seconds", seconds}};
}

Record Lab::test_run(const Request& request, int seed, experiments::Progress& progress) {
  const TunedRate& tuned = learning_rate(request.model, request.data, request.optimizer, progress);
  const experiments::Dataset& pool = data_.pool(request.data);
  const int64_t n = std::min(scale_.generalisation_n, pool.size());
  nn::ModulePtr model;
  const auto start = std::chrono::steady_clock::now();
  const FitResult r = fit(request, tuned.lr, n, run_seed(options_.seed, seed, n), progress, &model);
  auto [xt, yt] = experiments::to_tensors(data_.mnist_test(request.data.downsample), options_.device);
  const double test = evaluate(*model, xt, yt).first;
  return {{"key", request.key()},
          {"kind", "test"},
          {"model", request.model.name()},
          {"arch", request.model.arch},
          {"params", count_parameters(request.model, pool.sample_shape, pool.num_classes)},
          {"data", request.data.name()},
          {"optimizer", request.optimizer},
          {"lr", tuned.lr},
          {"seed", seed},
          {"n", n},
          {"outcome", outcome_name(r.outcome)},
          {"train_accuracy", r.train_accuracy},
          {"test_accuracy", test},
          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
}

}  // namespace ember::emc
