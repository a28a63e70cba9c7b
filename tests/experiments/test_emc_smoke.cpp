// The emc program's measurement rules: budgets in epochs equal across optimizers, a run that
// stops on its budget never counted as a capacity failure, class subsets that keep the original
// labels, learning-rate grids that grow off an edge, and one EMC search end to end on
// generated digits in the npm package's JSON format.
#include <gtest/gtest.h>
#include <omp.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "experiments/emc/analysis.h"
#include "experiments/emc/data.h"
#include "experiments/emc/lab.h"
#include "experiments/emc/models.h"
#include "experiments/emc/studies.h"
#include "experiments/emc/tuning.h"
#include "nn/models/mlp.h"
#include "tensor/creation.h"
#include "tensor/random.h"
#include "tensor/error.h"

namespace ember::emc {
namespace {

namespace fs = std::filesystem;
using experiments::Record;
using experiments::Verdict;

TEST(EmcBudget, SgdAndGdGetTheSameEpochs) {
  for (auto mode : {experiments::Mode::Quick, experiments::Mode::Standard, experiments::Mode::Full}) {
    const Scale s = scale_for(mode);
    const Request sgd = emc_request(s.mlp, mnist("random"), "sgd"), gd = emc_request(s.mlp, mnist("random"), "gd");
    EXPECT_EQ(budget_epochs(s, sgd), budget_epochs(s, gd)) << s.name;
    EXPECT_EQ(budget_epochs(s, sgd), s.epochs);
  }
  EXPECT_EQ(steps_per_epoch("gd", 1000, 64), 1);
  EXPECT_EQ(steps_per_epoch("sgd", 1000, 64), 16);
  EXPECT_EQ(steps_per_epoch("adam", 64, 64), 1);

  // Both optimizers run the budget's epochs on a set they cannot fit in it; SGD takes
  // ceil(n / batch) steps an epoch, GD one.
  omp_set_num_threads(1);
  manual_seed(3);
  Tensor x = randn({100, 5}), y = randint(0, 10, {100});
  for (const std::string opt : {"sgd", "gd"}) {
    manual_seed(4);
    auto model = nn::MLP({.in_features = 5, .hidden = {4}, .out_features = 10});
    const FitResult r = train_to_fit(*model, x, y, {.optimizer = opt, .lr = 0.01, .batch_size = 32, .epochs = 3});
    EXPECT_EQ(r.epochs, 3) << opt;
    EXPECT_EQ(r.steps, opt == "gd" ? 3 : 12) << opt;
  }
}

TEST(EmcBudget, ARunStoppedByItsBudgetIsNoCapacityFailure) {
  omp_set_num_threads(1);
  manual_seed(5);
  Tensor x = randn({200, 5}), y = randint(0, 10, {200});
  auto model = nn::MLP({.in_features = 5, .hidden = {32}, .out_features = 10});
  const FitResult r = train_to_fit(*model, x, y, {.optimizer = "sgd", .lr = 0.05, .epochs = 2});
  EXPECT_FALSE(r.fit());
  EXPECT_EQ(r.outcome, Outcome::Budget);
  EXPECT_FALSE(capacity_failure(r));

  // XOR is beyond a linear classifier: full-batch GD converges (loss flat at log 2, gradient
  // near zero) without fitting, and that is a capacity failure.
  Tensor xor_x = from_vector(std::vector<float>{-1, -1, -1, 1, 1, -1, 1, 1}, {4, 2});
  Tensor xor_y = from_vector(std::vector<int64_t>{0, 1, 1, 0}, {4});
  auto linear = nn::MLP({.in_features = 2, .hidden = {}, .out_features = 2});
  const FitResult c = train_to_fit(*linear, xor_x, xor_y, {.optimizer = "gd", .lr = 0.5, .epochs = 400});
  EXPECT_EQ(c.outcome, Outcome::Converged) << outcome_name(c.outcome) << " gradient " << c.gradient_ratio;
  EXPECT_TRUE(capacity_failure(c));
  EXPECT_LE(c.gradient_ratio, 0.05);
}

// Records of one measurement: EMCs per seed, each bounded by `bound`.
std::vector<Record> rows(const std::string& key, const std::vector<double>& emcs, const std::string& bound) {
  std::vector<Record> out;
  for (size_t i = 0; i < emcs.size(); ++i)
    out.push_back({{"key", key}, {"kind", "emc"}, {"model", "mlp[8]"}, {"params", 490}, {"seed", int(i)},
                   {"emc", emcs[i]}, {"bound", bound}, {"censored", false}, {"epochs", 100}});
  return out;
}

TEST(EmcBudget, BudgetBoundedSeedsMakeAComparisonInconclusive) {
  const std::vector<double> high = {200, 210, 190, 205, 215}, low = {100, 98, 105, 101, 99};
  for (const std::string bound : {"converged", "budget", "diverged"}) {
    experiments::Records records;
    records["s"] = rows("a", high, "converged");
    const auto b = rows("b", low, bound);
    records["s"].insert(records["s"].end(), b.begin(), b.end());
    const Results results(records);
    const Comparison c = compare(*results.find("a"), *results.find("b"), Claimed::AAbove);
    EXPECT_NEAR(c.log2_ratio.estimate, 1.0, 0.1);
    const auto d = decide(c, Claimed::AAbove);
    EXPECT_EQ(d.verdict, bound == "converged" ? Verdict::Supported : Verdict::Inconclusive) << bound << ": " << d.why;
    EXPECT_EQ(decide(c, Claimed::ABelow).verdict, bound == "converged" ? Verdict::Contradicted : Verdict::Inconclusive);
  }
}

TEST(EmcData, ClassSubsetsKeepTheOriginalLabels) {
  experiments::Dataset d{.name = "toy", .sample_shape = {1}, .x = {}, .y = {}, .num_classes = 10};
  for (int i = 0; i < 50; ++i) {
    d.x.push_back(static_cast<float>(i));
    d.y.push_back(i % 10);
  }
  const auto kept = keep_classes(d, {3, 7});
  EXPECT_EQ(kept.size(), 10);
  EXPECT_EQ(kept.num_classes, 10);  // the same 10-way head for every k
  for (int64_t i = 0; i < kept.size(); ++i) {
    EXPECT_TRUE(kept.y[i] == 3 || kept.y[i] == 7);
    EXPECT_EQ(static_cast<int64_t>(kept.x[i]) % 10, kept.y[i]);  // each sample keeps its own label
  }
  const auto two = chosen_classes(10, 2, 9), five = chosen_classes(10, 5, 9);
  EXPECT_EQ(two.size(), 2u);
  EXPECT_EQ(five.size(), 5u);
  for (int64_t c : two) EXPECT_NE(std::find(five.begin(), five.end(), c), five.end());  // nested
  EXPECT_THROW(keep_classes(d, {10}), Error);
}

TEST(EmcTuning, TheGridGrowsOffAnEdge) {
  // Best at 1.0 (above the first grid 0.0316 .. 0.316): the grid grows upwards past it.
  const TunedRate up = tune_learning_rate("sgd", [](double lr) { return -std::fabs(std::log10(lr)); });
  EXPECT_NEAR(up.lr, 1.0, 1e-9);
  EXPECT_FALSE(up.at_limit);
  EXPECT_GT(up.tried.back(), 1.0);
  // Ever better towards small rates: stops at the range's limit and says so.
  const TunedRate down = tune_learning_rate("adam", [](double lr) { return -lr; });
  EXPECT_TRUE(down.at_limit);
  EXPECT_GE(down.lr, 1e-5);  // Adam's smallest rate; the next grid point would be below it
  EXPECT_LT(down.lr / std::sqrt(10.0), 1e-5);
  EXPECT_EQ(down.lr, down.tried.front());
  EXPECT_GT(tuning_score(true, 1.0, 10, 100), tuning_score(true, 1.0, 90, 100));
  EXPECT_GT(tuning_score(true, 1.0, 99, 100), tuning_score(false, 0.99, 100, 100));
}

// 16 images per digit: noise plus a bright 8x8 block whose place depends on the digit.
void write_digits(const fs::path& dir) {
  fs::create_directories(dir);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> noise(0, 0.3f);
  for (int digit = 0; digit < 10; ++digit) {
    std::ostringstream json;
    json << "{\"data\":[";
    for (int image = 0; image < 16; ++image)
      for (int p = 0; p < 784; ++p) {
        const int row = p / 28, col = p % 28, top = 4 * (digit / 5) + 6, left = 4 * (digit % 5) + 2;
        const bool block = row >= top && row < top + 8 && col >= left && col < left + 8;
        json << (image || p ? "," : "") << (block ? 1.0f : noise(rng));
      }
    json << "]}";
    std::ofstream(dir / (std::to_string(digit) + ".json")) << json.str();
  }
}

TEST(EmcLab, OneSearchEndToEnd) {
  omp_set_num_threads(1);
  const fs::path root = fs::temp_directory_path() / ("ember-emc-lab-" + std::to_string(::getpid()));
  fs::remove_all(root);
  write_digits(root / "mnist");
  experiments::RunOptions options;
  options.data = root;
  Scale s = scale_for(experiments::Mode::Quick);
  s.held_out = 20;
  s.max_n = 64;
  s.epochs = 30;
  s.tune_seeds = 1;
  s.search.start = 8;
  s.search.tolerance = 0.5;
  Lab lab(options, s);
  std::ostringstream log;
  experiments::Progress progress(log);
  const Request r = emc_request({.arch = "mlp", .widths = {4}}, mnist("random", "real", 4));
  const Record row = lab.measure(r, 0, progress);
  EXPECT_EQ(row["key"], r.key());
  EXPECT_EQ(row["epochs"], 30);
  EXPECT_EQ(row["max_n"], 64);
  EXPECT_GT(row["emc"].get<int64_t>(), 0);
  const std::string bound = row["bound"];
  EXPECT_TRUE(bound == "converged" || bound == "budget" || bound == "diverged" || bound == "none") << bound;
  EXPECT_EQ(bound == "none", row["censored"].get<bool>());
  EXPECT_EQ(row["probes"].get<int>(), row["fits"].get<int>() + row["converged"].get<int>() +
                                          row["budget"].get<int>() + row["diverged"].get<int>());
  // The same request and seed measure the same: shards agree.
  Lab again(options, s);
  EXPECT_EQ(again.measure(r, 0, progress)["emc"], row["emc"]);

  experiments::RunOptions missing = options;
  missing.data = root / "nowhere";
  Lab none(missing, s);
  try {
    none.measure(r, 0, progress);
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run experiments/fetch_data.sh"), std::string::npos) << e.what();
  }
  fs::remove_all(root);
}

TEST(EmcModels, EveryArchitectureOfTheScalesBuilds) {
  // CNNs on 7x7 digits (standard), the ViT on 28x28 as 16 patches of 7x7.
  for (const auto& [spec, side] : {std::pair{ModelSpec{.arch = "mlp", .widths = {8}}, 7},
                                   std::pair{ModelSpec{.arch = "cnn", .widths = {4, 8}}, 7},
                                   std::pair{ModelSpec{.arch = "vit", .widths = {8}, .depth = 1}, 28}}) {
    const Shape image = {1, side, side};
    const auto model = build_model(spec, image, 10);
    EXPECT_EQ(model->forward(randn({3, 1, side, side})).shape(), (Shape{3, 10})) << spec.name();
    EXPECT_EQ(count_parameters(spec, image, 10), model->num_parameters()) << spec.name();
  }
  EXPECT_THROW(build_model({.arch = "vit", .widths = {8}}, {1, 10, 10}, 10), Error);  // side not a multiple of 7
}

TEST(EmcPlan, OneJobPerMeasurementAndSeedSharedOnce) {
  experiments::RunOptions options;
  options.mode = experiments::Mode::Quick;
  const auto jobs = plan_jobs(options);
  const Scale s = scale_for(options.mode);
  std::set<std::string> keys, studies;
  for (const auto& j : jobs) {
    EXPECT_TRUE(keys.insert(j.key).second) << j.key;
    studies.insert(j.study);
  }
  EXPECT_EQ(jobs.size() % s.seeds, 0u);
  EXPECT_EQ(studies, (std::set<std::string>{"cover", "labels", "activation", "optimizers"}));
  // The MLP on random labels belongs to labels, and activation and optimizers reuse it.
  const std::string shared = emc_request(s.mlp, mnist("random", "real", s.downsample)).key() + "#0";
  EXPECT_EQ(std::count_if(jobs.begin(), jobs.end(), [&](const auto& j) { return j.key == shared; }), 1);
}

}  // namespace
}  // namespace ember::emc
