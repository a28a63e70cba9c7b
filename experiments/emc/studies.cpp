#include "experiments/emc/studies.h"

#include <algorithm>
#include <memory>
#include <set>

namespace ember::emc {
namespace {

ModelSpec with_activation(ModelSpec m, const std::string& activation) {
  m.activation = activation;
  return m;
}

// Relative cost of one seed of a request, for the ETA and for balancing shards.
double cost(const Request& r) {
  const std::string& a = r.model.arch;
  double c = a == "cnn" ? 10 : a == "vit" ? 8 : a == "resnet" ? 20 : a == "linear" ? 0.2 : 1;
  if (r.data.dataset == "mnist" && r.data.downsample == 1) c *= 4;
  if (r.data.labels == "semantic" && r.data.inputs != "gaussian") c *= 3;  // larger EMC, larger n
  if (r.test_accuracy) c *= 0.2;
  return c;
}

}  // namespace

std::vector<experiments::StudyInfo> study_infos() {
  return {
      {"cover", "Method check: does the search recover Cover's 2(d+1) for a linear classifier on Gaussian points?"},
      {"data", "EMC per parameter of one MLP across data sets (semantic labels; random labels separately)"},
      {"labels", "Semantic vs random labels, Gaussian inputs and permuted pixels"},
      {"classes", "Subsets of k = 2, 5, 10 original MNIST classes in pools of equal size"},
      {"architectures", "EMC per parameter of MLPs, CNNs and ViTs (Adam) on 28x28 digits with random labels"},
      {"width-depth", "A deep MLP against a wide one of equal parameter count"},
      {"activation", "ReLU vs tanh at equal size"},
      {"optimizers", "SGD vs full-batch GD at equal epochs; Adam, AdamW, Shampoo alongside"},
      {"generalisation", "Does the EMC gain of semantic over random labels predict the generalisation gap?"},
  };
}

Request emc_request(const ModelSpec& model, const DataSpec& data, const std::string& optimizer) {
  return {.model = model, .data = data, .optimizer = optimizer};
}

DataSpec mnist(const std::string& labels, const std::string& inputs, int64_t downsample) {
  return {.dataset = "mnist", .inputs = inputs, .labels = labels, .downsample = downsample};
}

std::vector<Condition> label_conditions(int64_t downsample) {
  return {{mnist("semantic", "real", downsample), "semantic labels"},
          {mnist("random", "real", downsample), "random labels"},
          {mnist("random", "gaussian", downsample), "Gaussian inputs, random labels"},
          {mnist("semantic", "permuted", downsample), "permuted pixels"}};
}

std::vector<std::string> data_study_sets() { return {"mnist", "digits", "breast-cancer", "wine"}; }

DataSpec class_subset(const Scale& scale, int64_t k, const std::string& labels) {
  DataSpec d = mnist(labels, "real", scale.downsample);
  d.classes = k;
  d.pool = scale.class_pool;
  return d;
}

Request cover_request(int64_t d) {
  return {.model = {.arch = "linear", .widths = {}, .depth = 1},
          .data = {.dataset = "gaussian-" + std::to_string(d), .labels = "random"},
          .optimizer = "gd"};
}

Request architecture_request(const ModelSpec& model) {
  return emc_request(model, mnist("random", "real", 1), model.arch == "vit" ? "adam" : "sgd");
}

Request test_accuracy_request(const ModelSpec& model, const Scale& scale) {
  Request r = emc_request(model, mnist("semantic", "real", scale.downsample));
  r.test_accuracy = true;
  return r;
}

std::vector<Request> study_requests(const std::string& study, const Scale& s) {
  std::vector<Request> out;
  const int64_t ds = s.downsample;
  if (study == "cover") {
    for (int64_t d : s.cover_dimensions) out.push_back(cover_request(d));
  } else if (study == "data") {
    for (const std::string labels : {"semantic", "random"})
      for (const auto& set : data_study_sets()) {
        DataSpec d{.dataset = set, .labels = labels, .downsample = ds};
        out.push_back(emc_request(s.data_model, d));
      }
  } else if (study == "labels") {
    for (const auto& m : s.label_models)
      for (const auto& c : label_conditions(ds))
        if (s.label_conditions.empty() ||
            std::count(s.label_conditions.begin(), s.label_conditions.end(), c.label) > 0)
          out.push_back(emc_request(m, c.data));
  } else if (study == "classes") {
    for (const std::string labels : {"semantic", "random"})
      for (int64_t k : {2, 5, 10}) out.push_back(emc_request(s.mlp, class_subset(s, k, labels)));
  } else if (study == "architectures") {
    for (const auto* family : {&s.mlp_sizes, &s.cnn_sizes, &s.vit_sizes})
      for (const auto& m : *family) out.push_back(architecture_request(m));
  } else if (study == "width-depth") {
    for (const auto& m : {s.wide_mlp, s.deep_mlp}) out.push_back(emc_request(m, mnist("random", "real", ds)));
  } else if (study == "activation") {
    for (const auto& m : s.label_models)
      for (const std::string act : {"relu", "tanh"})
        out.push_back(emc_request(with_activation(m, act), mnist("random", "real", ds)));
  } else if (study == "optimizers") {
    for (const auto& opt : s.optimizers) out.push_back(emc_request(s.mlp, mnist("random", "real", ds), opt));
  } else if (study == "generalisation") {
    for (const auto& m : s.generalisation_models) {
      out.push_back(emc_request(m, mnist("semantic", "real", ds)));
      out.push_back(emc_request(m, mnist("random", "real", ds)));
      out.push_back(test_accuracy_request(m, s));
    }
  } else {
    fail("emc: no study called '", study, "'");
  }
  return out;
}

std::vector<std::string> selected_studies(const experiments::RunOptions& options, const Scale& scale) {
  std::vector<std::string> out;
  for (const auto& info : study_infos())
    if (options.studies.empty() ? std::count(scale.studies.begin(), scale.studies.end(), info.name) > 0
                                : options.runs(info.name))
      out.push_back(info.name);
  return out;
}

std::vector<experiments::Job> plan_jobs(const experiments::RunOptions& options) {
  const Scale scale = scale_for(options.mode);
  auto lab = std::make_shared<Lab>(options, scale);
  std::vector<experiments::Job> jobs;
  std::set<std::string> planned;
  for (const auto& study : selected_studies(options, scale)) {
    for (const Request& r : study_requests(study, scale)) {
      // A missing tabular set (Debian's python3-sklearn not installed) is left out and reported;
      // missing MNIST fails the first job that needs it, naming the fetch command.
      if (r.data.dataset != "mnist" && !lab->data().available(r.data.dataset)) continue;
      if (!planned.insert(r.key()).second) continue;
      for (int seed = 0; seed < scale.seeds; ++seed) {
        jobs.push_back({study, r.key() + "#" + std::to_string(seed), cost(r), [lab, r, seed](experiments::JobContext& ctx) {
                          experiments::Record row = r.test_accuracy ? lab->test_run(r, seed, ctx.progress)
                                                                    : lab->measure(r, seed, ctx.progress);
                          ctx.record(std::move(row));
                        }});
      }
    }
  }
  return jobs;
}

}  // namespace ember::emc
