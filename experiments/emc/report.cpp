#include "experiments/emc/report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "experiments/common/markdown.h"
#include "experiments/common/stats.h"
#include "experiments/emc/analysis.h"
#include "experiments/emc/claims.h"
#include "experiments/emc/data.h"
#include "experiments/emc/studies.h"

namespace ember::emc {
namespace {

using experiments::format_duration;
using experiments::format_number;
using experiments::markdown_table;

std::string design_text(const Scale& s) {
  return "- **EMC**: the largest n at which a fresh model, trained from a fresh initialisation on a fresh random "
         "subset of n samples, reaches 100% training accuracy. n doubles from " +
         std::to_string(s.search.start) + " until a probe fails, then the bracket is bisected to " +
         format_number(s.search.tolerance * 100) +
         "%. Seed i of every condition draws the same subsets and initial weights, so conditions are compared by "
         "paired differences over seeds (" +
         std::to_string(s.seeds) + " seeds per measurement).\n"
         "- **Budget**: " + std::to_string(s.epochs) +
         " epochs per probe for every optimizer (mini-batch SGD/Adam: ceil(n/" + std::to_string(s.batch_size) +
         ") steps an epoch; full-batch GD: one), cosine decay over the budget.\n"
         "- **Failure means converged**: a probe that does not fit counts as a capacity failure only when its loss "
         "has plateaued (it fell by less than 1% over the last quarter of the epochs run, at least 10) *and* the "
         "full-batch gradient norm is below 5% of its value at initialisation (checked every 5 epochs after 40% "
         "of the budget and at its end). A probe that runs out of epochs first is *budget*; one whose loss turns "
         "non-finite *diverged*. A seed whose EMC is bounded by a budget or diverged probe (the smallest failed n) "
         "makes every comparison using it inconclusive (budget).\n"
         "- **Learning rates**: tuned per model, optimizer and data set on random labels at n = parameters / " +
         std::to_string(s.tune_divisor) + " (near the capacity of these models), over " + std::to_string(s.tune_seeds) +
         " seeds of their own, on a grid of steps of √10 that starts with three rates and grows while the best "
         "rate is on an edge (score: training accuracy, plus a bonus for fitting early).\n"
         "- **Fair comparisons**: the data study compares semantic labels with semantic labels (and random "
         "with random) per parameter; the classes study keeps k = 2, 5, 10 of the original classes (nested, with "
         "their original labels and the same 10-way head) in pools of " +
         std::to_string(s.class_pool) +
         " samples each, so that only k changes; the architectures study gives every model 28x28 digits (the ViT "
         "16 patches of 7x7) and the ViT its own tuned Adam.\n";
}

std::string measurement_table(const Results& r) {
  std::vector<std::vector<std::string>> rows;
  for (const Measured* m : r.all()) {
    if (m->test) {
      rows.push_back({m->model, std::to_string(m->params), m->data + " (test run)", m->optimizer, format_number(m->lr),
                      "—", "train " + format_number(experiments::mean_of(m->train_accuracy), 3) + ", test " +
                               format_number(experiments::mean_of(m->test_accuracy), 3),
                      "—", "—"});
      continue;
    }
    std::string per_seed, bounds;
    std::map<std::string, int> count;
    for (size_t i = 0; i < m->emc.size(); ++i) {
      per_seed += (per_seed.empty() ? "" : ", ") + std::string(m->censored[i] ? "≥" : "") + format_number(m->emc[i]);
      ++count[m->bounds[i]];
    }
    for (const auto& [b, c] : count) bounds += (bounds.empty() ? "" : ", ") + std::to_string(c) + " " + b;
    rows.push_back({m->model, std::to_string(m->params), m->data, m->optimizer,
                    format_number(m->lr) + (m->lr_at_limit ? " (limit)" : "") + " of {" + m->lr_grid + "}", per_seed,
                    m->describe(), bounds,
                    std::to_string(m->converged) + " / " + std::to_string(m->budget) + " / " + std::to_string(m->diverged)});
  }
  return "The EMC column is the mean with its 95% bootstrap interval over seeds. *Bound* is the outcome of the "
         "probe that bounds each seed's EMC from above (converged: a capacity measurement; budget: it ran out of "
         "epochs first; none: the search fitted every sample). The last column counts all failed probes.\n\n" +
         markdown_table({"model", "params", "data", "optimizer", "lr (tried)", "EMC per seed", "EMC", "bound",
                         "failed probes: converged / budget / diverged"},
                        rows);
}

std::string timing_table(const experiments::Records& records) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [study, list] : records) {
    double seconds = 0;
    for (const auto& row : list) seconds += row.value("seconds", 0.0);
    rows.push_back({study, std::to_string(list.size()), format_duration(seconds)});
  }
  return "CPU time of the jobs (one thread each; learning-rate tuning is counted in the first job of a model in "
         "each process).\n\n" +
         markdown_table({"study", "jobs", "time"}, rows);
}

void plots(const Scale& s, const Results& r, experiments::Report& report) {
  experiments::BarPlot bars{.title = "EMC by condition (mean, 95% interval half-width)", .ylabel = "EMC"};
  experiments::Series series{.name = "EMC"};
  for (const Measured* m : r.all()) {
    if (m->test || m->arch == "linear") continue;
    const auto ci = experiments::bootstrap_mean(m->emc);
    bars.categories.push_back(m->model + " " + m->data + " " + m->optimizer);
    series.y.push_back(ci.estimate);
    series.err.push_back((ci.hi - ci.lo) / 2);
  }
  bars.series.push_back(series);
  if (!bars.categories.empty()) report.bar_plot("emc_by_condition.png", bars);
  experiments::LinePlot arch{.title = "EMC against parameters (28x28, random labels)",
                             .xlabel = "parameters",
                             .ylabel = "EMC",
                             .log_x = true,
                             .log_y = true};
  for (const auto& [name, family] : {std::pair{"MLP", s.mlp_sizes}, std::pair{"CNN", s.cnn_sizes}, std::pair{"ViT", s.vit_sizes}}) {
    experiments::Series line{.name = name};
    for (const auto& m : family)
      if (const Measured* x = r.find(architecture_request(m).key()); x) {
        line.x.push_back(static_cast<double>(x->params));
        line.y.push_back(experiments::mean_of(x->emc));
      }
    if (!line.x.empty()) arch.series.push_back(line);
  }
  if (!arch.series.empty()) report.line_plot("emc_vs_params.png", arch);
}

}  // namespace

void fill_report(const experiments::RunOptions& options, const experiments::Records& records,
                 experiments::Report& report) {
  const Scale s = scale_for(options.mode);
  const Results results(records);
  std::vector<std::string> ran;
  for (const auto& [study, rows] : records) ran.push_back(study);
  // A study whose requests all belong to earlier studies records nothing but ran all the same.
  for (const auto& study : selected_studies(options, s))
    if (std::find(ran.begin(), ran.end(), study) == ran.end()) ran.push_back(study);
  const auto not_run = add_claims(s, results, ran, report);
  for (const auto& study : not_run)
    report.untested("the claims of the " + study + " study",
                    "not run in this mode" + std::string(s.name == "quick" ? " (run --standard, or --study " + study + ")" : ""));
  report.untested("ImageNet- and CIFAR-scale models and data sets", "beyond a CPU budget; MNIST and tabular data only");
  DataBank bank(options.data, s.held_out, options.seed);
  for (const auto& set : data_study_sets())
    if (set != "mnist" && std::count(ran.begin(), ran.end(), "data") && !bank.available(set))
      report.untested("the data study on " + set, bank.source(set).string() + " not found (Debian python3-sklearn)");
  report.scale_note("MNIST at " + std::to_string(28 / s.downsample) + "x" + std::to_string(28 / s.downsample) +
                    " (28x28 in the architectures study), models of a few thousand parameters, training sets of at "
                    "most " + std::to_string(s.max_n) + " samples; the document trains models of up to millions of "
                    "parameters on CIFAR and ImageNet, to convergence.");
  report.scale_note(std::to_string(s.epochs) + " epochs a probe (the document trains until the loss plateaus); "
                    "probes that end on the budget are counted and make their comparisons inconclusive.");
  report.section("How this run measured", design_text(s));
  report.section("Measurements", measurement_table(results));
  report.section("Wall time per study", timing_table(records));
  plots(s, results, report);
  report.summary()["scale"] = {{"name", s.name}, {"seeds", s.seeds}, {"epochs", s.epochs}, {"max_n", s.max_n},
                               {"batch_size", s.batch_size}, {"downsample", s.downsample}};
}

}  // namespace ember::emc
