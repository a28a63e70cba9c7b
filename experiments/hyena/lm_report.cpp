// The language-modelling study's report: the FLOPs each family needs to reach a validation loss
// both reach (claim 3), final losses by size, and the curves against FLOPs and wall time.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "experiments/common/markdown.h"
#include "experiments/common/stats.h"
#include "experiments/hyena/lm.h"

namespace ember::hyena {

using namespace experiments;

namespace {

struct Point {
  double flops, seconds, loss;
};
// (family, size, seed) -> the run's points in step order.
using Curves = std::map<std::tuple<std::string, std::string, int>, std::vector<Point>>;

Curves collect(const std::vector<Record>& rows) {
  Curves c;
  for (const auto& r : rows)
    c[{r["family"], r["size"], r["seed"].get<int>()}].push_back(
        {r["flops"].get<double>(), r["seconds"].get<double>(), r["val_loss"].get<double>()});
  return c;
}

}  // namespace

void lm_report(const std::vector<Record>& rows, const LMScale& s, Report& report) {
  const Curves curves = collect(rows);
  if (curves.empty()) return;
  // Per (family, seed): all sizes' points pooled.
  std::map<std::pair<std::string, int>, std::vector<std::pair<double, double>>> pooled;
  std::map<std::pair<std::string, int>, double> best;
  for (const auto& [key, points] : curves) {
    const auto& [family, size, seed] = key;
    for (const auto& p : points) pooled[{family, seed}].push_back({p.flops, p.loss});
    double& b = best.try_emplace({family, seed}, INFINITY).first->second;
    for (const auto& p : points) b = std::min(b, p.loss);
  }
  // The target: the lowest loss that every run group (family x seed) reaches.
  double target = -INFINITY;
  for (const auto& [key, b] : best) target = std::max(target, b);
  std::vector<double> gpt, hyena;
  std::vector<int> seeds;
  for (int seed = 0; seed < s.seeds; ++seed) {
    if (!pooled.count({"gpt", seed}) || !pooled.count({"hyena", seed})) continue;
    gpt.push_back(flops_to_reach(pooled.at({"gpt", seed}), target));
    hyena.push_back(flops_to_reach(pooled.at({"hyena", seed}), target));
    seeds.push_back(seed);
  }
  const Interval saving = paired_relative_saving(hyena, gpt);
  std::ostringstream ours;
  ours << "to validation loss " << format_number(target, 4) << " nats/byte: Hyena " << format_number(mean_of(hyena), 3)
       << " vs GPT " << format_number(mean_of(gpt), 3) << " training FLOPs; Hyena's saving " << format_interval(saving, 3, true);
  report.claim({"3", "Hyena reaches GPT's validation loss with fewer training FLOPs",
                "355M on The Pile: 3.93e19 vs 4.77e19 FLOPs to the same perplexity (18% fewer)", ours.str(),
                decide(saving, above(0))});

  std::ostringstream md;
  md << "Byte-level LMs on the KJV Bible (training split; validation on " << s.validation_windows
     << " evenly spaced windows of the validation books), context " << s.context << ", " << s.train.steps
     << " steps of batch " << s.train.batch << ", AdamW lr " << s.train.lr << "; FLOPs by the engine's FlopCounter "
     << "(forward + backward of the training steps). The target loss is the lowest that every (family, seed) reaches "
        "with some size; each family's FLOPs to reach it come from its frontier over sizes (the lowest loss reached "
        "within a FLOP budget), interpolated in log FLOPs.\n\n";
  std::vector<std::vector<std::string>> table;
  for (const auto& size : s.sizes)
    for (const auto& family : s.families) {
      std::vector<double> final_loss, flops, secs;
      for (const auto& [key, points] : curves)
        if (std::get<0>(key) == family && std::get<1>(key) == size.name && !points.empty())
          final_loss.push_back(points.back().loss), flops.push_back(points.back().flops), secs.push_back(points.back().seconds);
      if (final_loss.empty()) continue;
      table.push_back({size.name, family, std::to_string(size.d_model), std::to_string(size.n_layers),
                       format_mean_sd(mean_of(final_loss), stddev_of(final_loss), 4), format_number(mean_of(flops), 3),
                       format_number(mean_of(secs), 3), std::to_string(final_loss.size())});
    }
  md << markdown_table({"size", "family", "d", "layers", "final val loss", "training FLOPs", "training s", "seeds"}, table);
  report.section("Language modelling: loss per FLOP", md.str());

  LinePlot by_flops{.title = "Validation loss vs training FLOPs (seed mean)", .xlabel = "training FLOPs",
                    .ylabel = "validation loss (nats/byte)", .log_x = true};
  LinePlot by_time{.title = "Validation loss vs training wall time (seed mean)", .xlabel = "seconds",
                   .ylabel = "validation loss (nats/byte)", .log_x = true};
  for (const auto& size : s.sizes)
    for (const auto& family : s.families) {
      Series f{.name = family + " " + size.name, .dashed = family == "gpt"}, t = f;
      std::vector<const std::vector<Point>*> runs;
      for (const auto& [key, points] : curves)
        if (std::get<0>(key) == family && std::get<1>(key) == size.name) runs.push_back(&points);
      if (runs.empty()) continue;
      for (size_t i = 0; i < runs.front()->size(); ++i) {
        std::vector<double> loss, fl, sec;
        for (const auto* r : runs)
          if (i < r->size()) loss.push_back((*r)[i].loss), fl.push_back((*r)[i].flops), sec.push_back((*r)[i].seconds);
        f.x.push_back(mean_of(fl)), f.y.push_back(mean_of(loss));
        t.x.push_back(mean_of(sec)), t.y.push_back(mean_of(loss));
      }
      by_flops.series.push_back(f);
      by_time.series.push_back(t);
    }
  report.line_plot("lm_loss_vs_flops.png", by_flops);
  report.line_plot("lm_loss_vs_time.png", by_time);
  report.summary()["lm"] = {{"target_loss", target}, {"flops_saving", saving.estimate}};
}

}  // namespace ember::hyena
