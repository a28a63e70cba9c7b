#pragma once
// The studies of the program, each runnable alone (--study NAME): what it asks and the
// measurements it needs, and the plan of jobs (one per measurement and seed).
#include <string>
#include <vector>

#include "experiments/common/program.h"
#include "experiments/emc/lab.h"

namespace ember::emc {

// The skeleton's description of the studies, in the order a run takes them.
std::vector<experiments::StudyInfo> study_infos();

// The requests of `study` at `scale` (requests on data sets missing from `bank` are left out).
std::vector<Request> study_requests(const std::string& study, const Scale& scale);

// A data condition with the short name tables show for it.
struct Condition {
  DataSpec data;
  std::string label;
};
Request emc_request(const ModelSpec& model, const DataSpec& data, const std::string& optimizer = "sgd");
DataSpec mnist(const std::string& labels, const std::string& inputs = "real", int64_t downsample = 2);
// The labels study's conditions: semantic, random labels, Gaussian inputs, permuted pixels.
std::vector<Condition> label_conditions(int64_t downsample);
// The data study's data sets (each with semantic and with random labels).
std::vector<std::string> data_study_sets();
// The classes study's condition: k of the original classes, a pool of scale.class_pool samples.
DataSpec class_subset(const Scale& scale, int64_t k, const std::string& labels);
Request cover_request(int64_t d);
// Architectures study: every model sees 28x28 digits; the ViT is trained with Adam.
Request architecture_request(const ModelSpec& model);
Request test_accuracy_request(const ModelSpec& model, const Scale& scale);

// The studies a run takes: those named, or the mode's own.
std::vector<std::string> selected_studies(const experiments::RunOptions& options, const Scale& scale);

// The jobs of a run: each request of each selected study, once (a request shared by two studies
// belongs to the first), times the scale's seeds.
std::vector<experiments::Job> plan_jobs(const experiments::RunOptions& options);

}  // namespace ember::emc
