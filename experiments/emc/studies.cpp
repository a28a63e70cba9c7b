#include "experiments/emc/studies.h"

#include "experiments/emc/optimizers.h"

namespace ember::emc {
namespace {

ModelSpec with_activation(ModelSpec m, const std::string& activation) {
  m.activation = activation;
  return m;
}

std::vector<Request> data_requests(const Scale& s) {
  std::vector<Request> out;
  for (const auto& c : data_study_conditions()) out.push_back({.model = s.data_model, .data = c.data});
  return out;
}

std::vector<Request> label_requests(const Scale& s) {
  std::vector<Request> out;
  for (const auto& m : {s.mlp_reference, s.cnn_reference})
    for (const auto& c : label_study_conditions()) out.push_back({.model = m, .data = c.data});
  return out;
}

std::vector<Request> class_requests(const Scale& s) {
  std::vector<Request> out;
  for (const std::string labels : {"semantic", "random"})
    for (int64_t k : {2, 5, 0}) out.push_back(emc_request(s.mlp_reference, labels, "real", k));
  return out;
}

std::vector<Request> architecture_requests(const Scale& s) {
  std::vector<Request> out;
  std::vector<std::string> label_kinds = {"random"};
  if (s.architectures_semantic) label_kinds.push_back("semantic");
  for (const auto& labels : label_kinds)
    for (const auto* family : {&s.mlp_sizes, &s.cnn_sizes, &s.resnet_sizes, &s.vit_sizes})
      for (const auto& m : *family) out.push_back(emc_request(m, labels));
  return out;
}

std::vector<Request> width_depth_requests(const Scale& s) {
  std::vector<Request> out;
  for (const auto* family : {&s.mlp_sizes, &s.mlp_depths, &s.cnn_sizes, &s.cnn_depths})
    for (const auto& m : *family) out.push_back(emc_request(m, "random"));
  return out;
}

std::vector<Request> activation_requests(const Scale& s) {
  std::vector<Request> out;
  for (const auto& m : {s.mlp_reference, s.cnn_reference})
    for (const std::string act : {"relu", "tanh"}) out.push_back(emc_request(with_activation(m, act), "random"));
  return out;
}

std::vector<Request> optimizer_requests(const Scale& s) {
  std::vector<Request> out;
  for (const auto& arch : s.optimizer_archs)
    for (const auto& opt : optimizer_names())
      out.push_back(emc_request(arch == "cnn" ? s.cnn_reference : s.mlp_reference, "random", "real", 0, opt));
  return out;
}

std::vector<Request> generalisation_requests(const Scale& s) {
  std::vector<Request> out;
  for (const auto& m : s.generalisation_models) {
    out.push_back(emc_request(m, "semantic"));
    out.push_back(emc_request(m, "random"));
    out.push_back(test_accuracy_request(m));
  }
  return out;
}

std::vector<Request> cover_requests(const Scale& s) {
  std::vector<Request> out;
  for (int64_t d : cover_dimensions(s)) out.push_back(cover_request(d));
  return out;
}

}  // namespace

Request emc_request(const ModelSpec& model, const std::string& labels, const std::string& inputs, int64_t classes,
                    const std::string& optimizer) {
  return {.model = model,
          .data = {.dataset = "mnist", .inputs = inputs, .labels = labels, .classes = classes},
          .optimizer = optimizer};
}

Request test_accuracy_request(const ModelSpec& model) {
  Request r = emc_request(model, "semantic");
  r.test_accuracy = true;
  return r;
}

Request cover_request(int64_t d) {
  return {.model = {.arch = "linear", .widths = {}, .depth = 1, .activation = "relu"},
          .data = {.dataset = "gaussian-" + std::to_string(d), .inputs = "real", .labels = "random", .classes = 0},
          .optimizer = "gd"};
}

std::vector<Condition> data_study_conditions() {
  return {{{.dataset = "mnist"}, "MNIST"},
          {{.dataset = "digits"}, "digits (8x8 table)"},
          {{.dataset = "breast-cancer"}, "breast cancer"},
          {{.dataset = "wine"}, "wine"},
          {{.dataset = "mnist", .inputs = "gaussian", .labels = "random"}, "Gaussian noise"}};
}

std::vector<Condition> label_study_conditions() {
  return {{{.dataset = "mnist"}, "semantic labels"},
          {{.dataset = "mnist", .labels = "random"}, "random labels"},
          {{.dataset = "mnist", .inputs = "gaussian", .labels = "random"}, "Gaussian inputs"},
          {{.dataset = "mnist", .inputs = "permuted"}, "permuted pixels"}};
}

std::vector<int64_t> cover_dimensions(const Scale& scale) {
  return scale.name == "full" ? std::vector<int64_t>{10, 20, 40, 80} : std::vector<int64_t>{10, 20, 40};
}

const std::vector<Study>& studies() {
  static const std::vector<Study> all = {
      {"cover", "Method check: does the search recover Cover's 2(d+1) for a linear classifier on Gaussian points?",
       cover_requests},
      {"data", "How does the EMC of one MLP differ between MNIST, tabular data and Gaussian noise?", data_requests},
      {"labels", "Semantic vs random labels, Gaussian inputs and permuted pixels, for an MLP and a CNN",
       label_requests},
      {"classes", "Classes merged into 2, 5 and 10 groups, with semantic and random labels", class_requests},
      {"architectures", "EMC against parameter count for MLPs, CNNs, ResNets and ViTs",
       architecture_requests},
      {"width-depth", "Scaling an MLP and a CNN by width and by depth: EMC per parameter", width_depth_requests},
      {"activation", "ReLU vs tanh at equal size", activation_requests},
      {"optimizers", "SGD, full-batch GD, Adam, AdamW and Shampoo", optimizer_requests},
      {"generalisation", "Does the EMC gain of semantic over random labels track test accuracy?",
       generalisation_requests},
  };
  return all;
}

const Study& study(const std::string& name) {
  std::string known;
  for (const auto& s : studies()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  fail("--study: unknown study '", name, "' (known: ", known, ")");
}

}  // namespace ember::emc
