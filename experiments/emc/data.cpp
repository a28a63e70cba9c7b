#include "experiments/emc/data.h"

#include "experiments/common/loaders.h"
#include "experiments/common/transforms.h"
#include "tensor/error.h"

namespace ember::emc {

using experiments::Dataset;

std::string DataSpec::name() const {
  std::string out = dataset;
  if (classes > 0) out += "/" + std::to_string(classes) + "-classes";
  if (inputs != "real") out += "/" + inputs + "-inputs";
  if (labels != "semantic") out += "/" + labels + "-labels";
  return out;
}

DataBank::DataBank(std::filesystem::path dir, int64_t image_downsample, int64_t held_out, uint64_t seed)
    : dir_(std::move(dir)), image_downsample_(image_downsample), held_out_(held_out), seed_(seed) {}

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
  fail("data: unknown data set '", dataset, "' (known: mnist, digits, breast-cancer, wine)");
}

bool DataBank::available(const std::string& dataset) const {
  if (gaussian_dims(dataset) > 0) return true;
  auto path = source(dataset);
  return dataset == "mnist" ? std::filesystem::exists(path / "9.json") : std::filesystem::exists(path);
}

const Dataset& DataBank::base(const std::string& dataset) {
  if (auto it = bases_.find(dataset); it != bases_.end()) return it->second;
  if (const int64_t d = gaussian_dims(dataset); d > 0) {
    constexpr int64_t size = 4096;
    Dataset labels_only{.name = dataset,
                        .sample_shape = {d},
                        .x = std::vector<float>(size * d),
                        .y = std::vector<int64_t>(size),
                        .num_classes = 2};
    Dataset points = experiments::gaussian_inputs(labels_only, seed_ ^ static_cast<uint64_t>(d));
    return bases_[dataset] = experiments::random_labels(points, seed_ ^ 0xc0de ^ static_cast<uint64_t>(d));
  }
  check(available(dataset), "data: ", dataset, " not found at ", source(dataset).string(),
        " (run experiments/fetch_data.sh ", dir_.string(), ")");
  if (dataset != "mnist") {
    Dataset d = experiments::standardize(experiments::load_tabular_csv(source(dataset)), true);
    d.name = dataset;
    return bases_[dataset] = std::move(d);
  }
  Dataset digits = experiments::load_mnist_digits(source(dataset));
  if (image_downsample_ > 1) digits = experiments::downsample(digits, image_downsample_);
  auto [train, test] = experiments::split(digits, held_out_, seed_ ^ 0x7e57);
  mnist_test_ = experiments::standardize(test, false);
  return bases_[dataset] = experiments::standardize(train, false);
}

const Dataset& DataBank::mnist_test() {
  base("mnist");
  return *mnist_test_;
}

const Dataset& DataBank::pool(const DataSpec& spec) {
  const std::string key = spec.name();
  if (auto it = pools_.find(key); it != pools_.end()) return it->second;
  Dataset d = base(spec.dataset);
  if (spec.classes > 0) d = experiments::merge_classes(d, spec.classes);
  if (spec.inputs == "gaussian")
    d = experiments::gaussian_inputs(d, seed_ ^ 0x6a055);
  else if (spec.inputs == "permuted")
    d = experiments::permute_features(d, seed_ ^ 0x9e4d);
  else
    check(spec.inputs == "real", "data: unknown inputs '", spec.inputs, "' (known: real, gaussian, permuted)");
  if (spec.labels == "random")
    d = experiments::random_labels(d, seed_ ^ 0x1abe1);
  else
    check(spec.labels == "semantic", "data: unknown labels '", spec.labels, "' (known: semantic, random)");
  d.name = key;
  return pools_[key] = std::move(d);
}

}  // namespace ember::emc
