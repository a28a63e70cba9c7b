#include "experiments/emc/data.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "experiments/common/loaders.h"
#include "experiments/common/transforms.h"
#include "tensor/error.h"

namespace ember::emc {

using experiments::Dataset;

std::string DataSpec::name() const {
  std::string out = dataset == "mnist" && downsample == 1 ? "mnist28" : dataset;
  if (classes > 0) out += "/" + std::to_string(classes) + "-classes";
  if (pool > 0) out += "/pool-" + std::to_string(pool);
  if (inputs != "real") out += "/" + inputs + "-inputs";
  if (labels != "semantic") out += "/" + labels + "-labels";
  return out;
}

Dataset keep_classes(const Dataset& d, const std::vector<int64_t>& classes) {
  for (int64_t c : classes)
    check(c >= 0 && c < d.num_classes, "keep_classes: ", d.name, " has no class ", c, " (", d.num_classes, " classes)");
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < d.size(); ++i)
    if (std::find(classes.begin(), classes.end(), d.y[i]) != classes.end()) indices.push_back(i);
  return experiments::subset(d, indices);
}

std::vector<int64_t> chosen_classes(int64_t num_classes, int64_t k, uint64_t seed) {
  check(k >= 1 && k <= num_classes, "chosen_classes: cannot choose ", k, " of ", num_classes, " classes");
  std::vector<int64_t> order(num_classes);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  std::vector<int64_t> chosen(order.begin(), order.begin() + k);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

DataBank::DataBank(std::filesystem::path dir, int64_t held_out, uint64_t seed)
    : dir_(std::move(dir)), held_out_(held_out), seed_(seed) {}

namespace {

// d of "gaussian-<d>", or 0 for other names.
int64_t gaussian_dims(const std::string& dataset) {
  const std::string prefix = "gaussian-";
  if (dataset.rfind(prefix, 0) != 0) return 0;
  int64_t d = 0;
  try {
    d = std::stoll(dataset.substr(prefix.size()));
  } catch (const std::exception&) {
    fail("data: '", dataset, "' is not gaussian-<dimensions>");
  }
  check(d > 0, "data: '", dataset, "' needs a positive dimension");
  return d;
}

}  // namespace

std::filesystem::path DataBank::source(const std::string& dataset) const {
  if (gaussian_dims(dataset) > 0) return "(synthetic)";
  if (dataset == "mnist") return dir_ / "mnist";
  if (dataset == "digits") return dir_ / "sklearn" / "digits.csv";
  if (dataset == "breast-cancer") return dir_ / "sklearn" / "breast_cancer.csv";
  if (dataset == "wine") return dir_ / "sklearn" / "wine_data.csv";
  fail("data: unknown data set '", dataset, "' (known: mnist, digits, breast-cancer, wine, gaussian-<d>)");
}

bool DataBank::available(const std::string& dataset) const {
  if (gaussian_dims(dataset) > 0) return true;
  auto path = source(dataset);
  return dataset == "mnist" ? std::filesystem::exists(path / "9.json") : std::filesystem::exists(path);
}

const Dataset& DataBank::base(const std::string& dataset, int64_t downsample) {
  const std::string key = dataset + "@" + std::to_string(downsample);
  if (auto it = bases_.find(key); it != bases_.end()) return it->second;
  if (const int64_t d = gaussian_dims(dataset); d > 0) {
    constexpr int64_t size = 4096;
    Dataset labels_only{.name = dataset,
                        .sample_shape = {d},
                        .x = std::vector<float>(size * d),
                        .y = std::vector<int64_t>(size),
                        .num_classes = 2};
    Dataset points = experiments::gaussian_inputs(labels_only, seed_ ^ static_cast<uint64_t>(d));
    return bases_[key] = experiments::random_labels(points, seed_ ^ 0xc0de ^ static_cast<uint64_t>(d));
  }
  check(available(dataset), "data: ", dataset, " not found at ", source(dataset).string(),
        " (run experiments/fetch_data.sh ", dir_.string(), ")");
  if (dataset != "mnist") {
    Dataset d = experiments::standardize(experiments::load_tabular_csv(source(dataset)), true);
    d.name = dataset;
    return bases_[key] = std::move(d);
  }
  Dataset digits = experiments::load_mnist_digits(source(dataset));
  if (downsample > 1) digits = experiments::downsample(digits, downsample);
  auto [train, test] = experiments::split(digits, held_out_, seed_ ^ 0x7e57);
  tests_[key] = experiments::standardize(test, false);
  return bases_[key] = experiments::standardize(train, false);
}

const Dataset& DataBank::mnist_test(int64_t downsample) {
  base("mnist", downsample);
  return tests_.at("mnist@" + std::to_string(downsample));
}

const Dataset& DataBank::pool(const DataSpec& spec) {
  const std::string key = spec.name();
  if (auto it = pools_.find(key); it != pools_.end()) return it->second;
  Dataset d = base(spec.dataset, spec.dataset == "mnist" ? spec.downsample : 1);
  std::vector<int64_t> classes(d.num_classes);
  std::iota(classes.begin(), classes.end(), 0);
  if (spec.classes > 0) {
    classes = chosen_classes(d.num_classes, spec.classes, seed_ ^ 0xc1a55);
    d = keep_classes(d, classes);
  }
  if (spec.pool > 0) {
    check(spec.pool <= d.size(), "data: ", key, ": the pool of ", spec.pool, " samples is larger than the ", d.size(),
          " there are");
    d = experiments::subset(d, experiments::sample_indices(d.size(), spec.pool, seed_ ^ 0x9001));
  }
  if (spec.inputs == "gaussian")
    d = experiments::gaussian_inputs(d, seed_ ^ 0x6a055);
  else if (spec.inputs == "permuted")
    d = experiments::permute_features(d, seed_ ^ 0x9e4d);
  else
    check(spec.inputs == "real", "data: unknown inputs '", spec.inputs, "' (known: real, gaussian, permuted)");
  if (spec.labels == "random") {
    // Drawn among the classes the pool keeps, so a k-class pool gets k-class random labels.
    std::mt19937_64 rng(seed_ ^ 0x1abe1);
    std::uniform_int_distribution<size_t> pick(0, classes.size() - 1);
    for (auto& y : d.y) y = classes[pick(rng)];
  } else {
    check(spec.labels == "semantic", "data: unknown labels '", spec.labels, "' (known: semantic, random)");
  }
  d.name = key;
  return pools_[key] = std::move(d);
}

}  // namespace ember::emc
