#pragma once
// The studies of the program, each runnable alone (--study NAME): what it asks and the
// measurements it needs. Plots and the report read the measurements back from the lab.
#include <functional>
#include <string>
#include <vector>

#include "experiments/emc/lab.h"

namespace ember::emc {

struct Study {
  std::string name;      // the --study argument
  std::string question;  // one line for --help and the report
  std::function<std::vector<Request>(const Scale&)> requests;
};

// All studies, in the order a full run takes them.
const std::vector<Study>& studies();
// The study called `name`; throws listing the names otherwise.
const Study& study(const std::string& name);

// Requests of the studies that are shared with the plots and the report.
Request emc_request(const ModelSpec& model, const std::string& labels, const std::string& inputs = "real",
                    int64_t classes = 0, const std::string& optimizer = "sgd");
// A data condition with the short name plots and tables show for it.
struct Condition {
  DataSpec data;
  std::string label;
};
// The test-accuracy run of the generalisation study for `model`.
Request test_accuracy_request(const ModelSpec& model);
// The Cover check in d dimensions: a linear classifier, full-batch GD, random binary labels.
Request cover_request(int64_t d);
// The data study's conditions: each data set with semantic labels, and Gaussian noise inputs.
std::vector<Condition> data_study_conditions();
// The labels study's conditions: semantic, random labels, Gaussian inputs, permuted pixels.
std::vector<Condition> label_study_conditions();
// Dimensions of the Cover check.
std::vector<int64_t> cover_dimensions(const Scale& scale);

}  // namespace ember::emc
