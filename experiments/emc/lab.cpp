#include "experiments/emc/lab.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <ostream>

#include "experiments/common/markdown.h"
#include "experiments/common/stats.h"
#include "experiments/common/transforms.h"
#include "experiments/emc/optimizers.h"
#include "tensor/random.h"

namespace ember::emc {
namespace {

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The seed of one training run: the same (seed, n) draws the same subset and initial weights
// in every condition, so comparisons between conditions share their randomness.
uint64_t run_seed(uint64_t base, int seed, int64_t n) {
  return splitmix(splitmix(base ^ (static_cast<uint64_t>(seed) << 32)) ^ static_cast<uint64_t>(n));
}

std::string label(const std::string& study, const Request& r) {
  return study + "  " + r.model.name() + "  " + r.data.name() + "  " + r.optimizer;
}

}  // namespace

std::string Request::key() const {
  return model.name() + "|" + data.name() + "|" + optimizer + (test_accuracy ? "|test" : "");
}

std::vector<double> Measurement::emcs() const {
  std::vector<double> out;
  for (const auto& s : seeds) out.push_back(static_cast<double>(s.emc));
  return out;
}
double Measurement::mean() const { return experiments::mean_of(emcs()); }
double Measurement::sd() const { return experiments::stddev_of(emcs()); }
bool Measurement::censored() const {
  for (const auto& s : seeds)
    if (s.censored) return true;
  return false;
}

Lab::Lab(Options options, Scale scale, std::ostream& log)
    : options_(std::move(options)),
      scale_(std::move(scale)),
      log_(log),
      data_(options_.data, scale_.image_downsample, scale_.held_out, options_.seed),
      progress_(log) {
  std::filesystem::create_directories(options_.out);
  csv_ = std::make_unique<experiments::CsvWriter>(
      options_.out / "fits.csv",
      std::vector<std::string>{"study", "model", "arch", "activation", "params", "data", "optimizer", "lr", "seed", "n",
                               "steps", "budget", "train_accuracy", "loss", "fit", "outcome", "test_accuracy",
                               "seconds"});
}

Lab::~Lab() = default;

int64_t Lab::budget(const Request& request, int64_t n) const {
  // The linear model of the Cover check is cheap, and separable sets near its capacity have
  // small margins that take many steps to reach: it gets the largest budget.
  if (request.model.arch == "linear") return scale_.max_steps;
  const double epochs_steps = scale_.epochs * std::ceil(static_cast<double>(n) / scale_.batch_size);
  return std::clamp<int64_t>(static_cast<int64_t>(epochs_steps), scale_.min_steps, scale_.max_steps);
}

double Lab::cost(const Request& r) const {
  const double arch = r.model.arch == "cnn" ? 5 : r.model.arch == "resnet" ? 12 : r.model.arch == "linear" ? 0.2 : 1;
  const double labels = r.data.labels == "semantic" && r.data.inputs != "gaussian" ? 2.5 : 1;
  return arch * labels * (r.test_accuracy ? 0.3 : 1) * scale_.seeds;
}

void Lab::plan(const std::vector<Request>& requests) {
  for (const auto& r : requests)
    if (planned_.insert(r.key()).second) progress_.plan(cost(r));
}

const Measurement* Lab::find(const Request& request) const {
  auto it = results_.find(request.key());
  return it == results_.end() ? nullptr : &it->second;
}

const Measurement& Lab::run(const std::string& study, const Request& request) {
  const std::string key = request.key();
  if (auto it = results_.find(key); it != results_.end()) {
    it->second.studies.insert(study);
    return it->second;
  }
  plan({request});
  const experiments::Dataset& pool = data_.pool(request.data);
  Measurement m;
  m.request = request;
  m.studies.insert(study);
  m.params = count_parameters(request.model, pool.sample_shape, pool.num_classes);
  m.lr = learning_rate(request.model, request.data, request.optimizer);
  const double seed_cost = cost(request) / scale_.seeds;
  if (request.test_accuracy) {
    const int64_t n = std::min(scale_.generalisation_n, pool.size());
    for (int s = 0; s < scale_.seeds; ++s) {
      double test = 0;
      m.train_accuracy.push_back(fit(study, request, m.lr, n, s, &test).train_accuracy);
      m.test_accuracy.push_back(test);
      progress_.complete(seed_cost);
    }
    progress_.line(label(study, request) + ": test accuracy " +
                   experiments::format_number(experiments::mean_of(m.test_accuracy)) + " at n=" + std::to_string(n));
  } else {
    m.max_n = std::min(scale_.max_n, pool.size());
    SearchOptions search = scale_.search;
    search.max_n = m.max_n;
    if (options_.log_grid) search.mode = SearchOptions::Mode::LogGrid;
    for (int s = 0; s < scale_.seeds; ++s) {
      m.seeds.push_back(find_emc(
          [&](int64_t n) {
            const FitResult r = fit(study, request, m.lr, n, s);
            if (!r.fit) ++(r.outcome == kStillFalling ? m.failed_still_falling : m.failed_converged);
            return r.fit;
          },
          search));
      progress_.complete(seed_cost);
      const auto& r = m.seeds.back();
      progress_.line(label(study, request) + "  seed " + std::to_string(s) + ": EMC " + (r.censored ? ">= " : "") +
                     std::to_string(r.emc) + " (" + std::to_string(r.probes) + " fits, " + std::to_string(m.params) +
                     " parameters)");
    }
  }
  auto [it, inserted] = results_.emplace(key, std::move(m));
  order_.push_back(&it->second);
  return it->second;
}

double Lab::learning_rate(const ModelSpec& model, const DataSpec& data, const std::string& optimizer) {
  // Tuned per model and optimizer (a deeper or differently activated network is another
  // architecture) by fitting random labels of the model's data set at n = params / divisor:
  // near its capacity, where a rate that is too high or too low shows.
  const std::string key = model.name() + "/" + optimizer + "/" + data.dataset;
  if (auto it = tuned_.find(key); it != tuned_.end()) return it->second;
  const Request tuning{.model = model, .data = {.dataset = data.dataset, .labels = "random"}, .optimizer = optimizer};
  const auto& tuning_pool = data_.pool(tuning.data);
  const int64_t params = count_parameters(model, tuning_pool.sample_shape, tuning_pool.num_classes);
  const int64_t n = std::clamp<int64_t>(params / scale_.tune_divisor, 16, tuning_pool.size());
  using Score = std::pair<int, double>;
  Score best{-1, 0};
  double best_lr = 0;
  for (double lr : learning_rate_grid(optimizer, scale_.quick_lr_grid)) {
    FitResult r = fit("lr-tuning", tuning, lr, n, 0);
    const double loss = std::isfinite(r.loss) ? r.loss : std::numeric_limits<double>::infinity();
    Score score{r.fit ? 1 : 0, r.fit ? -static_cast<double>(r.steps) : -loss};
    if (score > best) {
      best = score;
      best_lr = lr;
    }
  }
  progress_.line("lr-tuning  " + key + ": lr " + experiments::format_number(best_lr));
  return tuned_[key] = best_lr;
}

FitResult Lab::fit(const std::string& study, const Request& request, double lr, int64_t n, int seed,
                   double* test_accuracy) {
  const experiments::Dataset& pool = data_.pool(request.data);
  const uint64_t s = run_seed(options_.seed, seed, n);
  const experiments::Dataset train = experiments::subset(pool, experiments::sample_indices(pool.size(), n, s));
  auto [x, y] = experiments::to_tensors(train, options_.device);
  manual_seed(s + 1);
  auto model = build_model(request.model, pool.sample_shape, pool.num_classes);
  model->to(options_.device);
  const TrainConfig config{.optimizer = request.optimizer,
                           .lr = lr,
                           .batch_size = scale_.batch_size,
                           .steps = budget(request, n),
                           .threshold = options_.threshold,
                           .plateau_fraction = 0.25,
                           .seed = s + 2};
  const std::string what = label(study, request) + "  seed " + std::to_string(seed) + "  n=" + std::to_string(n);
  auto observer = [&](int64_t step, int64_t steps, double accuracy, double loss) {
    if (!progress_.due()) return;
    progress_.line(what + "  step " + std::to_string(step) + "/" + std::to_string(steps) + "  acc " +
                   experiments::format_number(accuracy, 4) + "  loss " + experiments::format_number(loss));
  };
  const auto start = std::chrono::steady_clock::now();
  const FitResult r = train_to_fit(*model, x, y, config, observer);
  double test = std::numeric_limits<double>::quiet_NaN();
  if (test_accuracy) {
    auto [xt, yt] = experiments::to_tensors(data_.mnist_test(), options_.device);
    test = *test_accuracy = evaluate(*model, xt, yt).first;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++fits_;
  csv_->row(study, request.model.name(), request.model.arch, request.model.activation, model->num_parameters(),
            request.data.name(), request.optimizer, lr, seed, n, r.steps, config.steps, r.train_accuracy, r.loss, r.fit,
            r.outcome, std::isnan(test) ? std::string() : experiments::format_number(test, 4), seconds);
  progress_.line(what + ": " + (r.fit ? "fit in " + std::to_string(r.steps) + " steps" : r.outcome) + " (acc " +
                 experiments::format_number(r.train_accuracy, 4) + ", " + experiments::format_duration(seconds) + ")");
  return r;
}

}  // namespace ember::emc
