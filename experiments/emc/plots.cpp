#include "experiments/emc/plots.h"

#include <cmath>
#include <limits>

#include "experiments/common/plot.h"
#include "experiments/emc/analysis.h"
#include "experiments/emc/optimizers.h"
#include "experiments/emc/studies.h"

namespace ember::emc {
namespace {

using experiments::BarPlot;
using experiments::LinePlot;
using experiments::Series;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void add_point(Series& s, double x, const Measurement* m) {
  s.x.push_back(x);
  s.y.push_back(m ? m->mean() : kNaN);
  s.err.push_back(m ? m->sd() : kNaN);
}

bool has_data(const std::vector<Series>& series) {
  for (const auto& s : series)
    for (double y : s.y)
      if (!std::isnan(y)) return true;
  return false;
}

// One series of EMC against parameter count for `models` on `labels`.
Series params_series(const Lab& lab, const std::string& name, const std::vector<ModelSpec>& models,
                     const std::string& labels) {
  Series s{.name = name};
  for (const auto& p : curve(lab, models, labels)) {
    s.x.push_back(p.params);
    s.y.push_back(p.emc);
    s.labels.push_back(p.name + (p.censored ? " (>=)" : ""));
  }
  return s;
}

Series identity_line(const std::vector<Series>& series) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const auto& s : series)
    for (double x : s.x) lo = std::min(lo, x), hi = std::max(hi, x);
  Series line{.name = "EMC = #params"};
  line.dashed = true;
  if (hi > 0) line.x = {lo, hi}, line.y = {lo, hi};
  return line;
}

PlotFile emc_vs_params(const Lab& lab, const std::filesystem::path& out) {
  const Scale& s = lab.scale();
  std::vector<Series> series;
  for (const std::string labels : {"random", "semantic"}) {
    for (const auto& [name, models] :
         {std::pair{"MLP", s.mlp_sizes}, std::pair{"CNN", s.cnn_sizes}, std::pair{"ResNet", s.resnet_sizes},
          std::pair{"ViT", s.vit_sizes}}) {
      Series line = params_series(lab, std::string(name) + " (" + labels + " labels)", models, labels);
      if (!line.x.empty()) series.push_back(line);
    }
  }
  PlotFile file{"emc_vs_params.png", "EMC against parameter count, per architecture (MNIST)", false};
  if (!has_data(series)) return file;
  series.push_back(identity_line(series));
  file.drawn = experiments::line_plot(out / file.file, {.title = file.title,
                                                        .xlabel = "parameters",
                                                        .ylabel = "EMC (samples fitted 100%)",
                                                        .log_x = true,
                                                        .log_y = true,
                                                        .series = series});
  return file;
}

PlotFile width_depth(const Lab& lab, const std::filesystem::path& out) {
  const Scale& s = lab.scale();
  std::vector<Series> series = {params_series(lab, "MLP, width", s.mlp_sizes, "random"),
                                params_series(lab, "MLP, depth", s.mlp_depths, "random"),
                                params_series(lab, "CNN, width", s.cnn_sizes, "random"),
                                params_series(lab, "CNN, depth", s.cnn_depths, "random")};
  PlotFile file{"width_depth.png", "Scaling by width vs by depth (random labels)", false};
  if (!has_data(series)) return file;
  file.drawn = experiments::line_plot(
      out / file.file,
      {.title = file.title, .xlabel = "parameters", .ylabel = "EMC", .log_x = true, .log_y = true, .series = series});
  return file;
}

PlotFile labels_inputs(const Lab& lab, const std::filesystem::path& out) {
  const auto conditions = label_study_conditions();
  BarPlot plot{.title = "Labels and inputs (MNIST)", .ylabel = "EMC", .categories = {}, .series = {}, .log_y = true};
  for (const auto& c : conditions) plot.categories.push_back(c.label);
  for (const auto& model : {lab.scale().mlp_reference, lab.scale().cnn_reference}) {
    Series s{.name = model.name()};
    for (size_t i = 0; i < conditions.size(); ++i)
      add_point(s, static_cast<double>(i), lab.find({.model = model, .data = conditions[i].data}));
    plot.series.push_back(s);
  }
  PlotFile file{"labels_inputs.png", plot.title, false};
  if (has_data(plot.series)) file.drawn = experiments::bar_plot(out / file.file, plot);
  return file;
}

PlotFile data_sets(const Lab& lab, const std::filesystem::path& out) {
  const auto conditions = data_study_conditions();
  BarPlot plot{.title = "One MLP (" + lab.scale().data_model.name() + ") on different data",
               .ylabel = "EMC",
               .categories = {},
               .series = {},
               .log_y = true};
  Series emc{.name = "EMC"}, available{.name = "samples available"};
  for (size_t i = 0; i < conditions.size(); ++i) {
    const Measurement* m = lab.find({.model = lab.scale().data_model, .data = conditions[i].data});
    plot.categories.push_back(conditions[i].label);
    add_point(emc, static_cast<double>(i), m);
    available.y.push_back(m ? static_cast<double>(m->max_n) : kNaN);
    available.err.push_back(0);
  }
  plot.series = {emc, available};
  PlotFile file{"data.png", plot.title, false};
  if (has_data({emc})) file.drawn = experiments::bar_plot(out / file.file, plot);
  return file;
}

PlotFile activation(const Lab& lab, const std::filesystem::path& out) {
  BarPlot plot{
      .title = "ReLU vs tanh (random labels)", .ylabel = "EMC", .categories = {}, .series = {}, .log_y = false};
  const std::vector<ModelSpec> models = {lab.scale().mlp_reference, lab.scale().cnn_reference};
  for (const auto& m : models) plot.categories.push_back(m.name());
  for (const std::string act : {"relu", "tanh"}) {
    Series s{.name = act};
    for (size_t i = 0; i < models.size(); ++i) {
      ModelSpec m = models[i];
      m.activation = act;
      add_point(s, static_cast<double>(i), lab.find(emc_request(m, "random")));
    }
    plot.series.push_back(s);
  }
  PlotFile file{"activation.png", plot.title, false};
  if (has_data(plot.series)) file.drawn = experiments::bar_plot(out / file.file, plot);
  return file;
}

PlotFile optimizers(const Lab& lab, const std::filesystem::path& out) {
  BarPlot plot{.title = "Optimizers (random labels)",
               .ylabel = "EMC",
               .categories = optimizer_names(),
               .series = {},
               .log_y = false};
  for (const auto& arch : lab.scale().optimizer_archs) {
    const ModelSpec& model = arch == "cnn" ? lab.scale().cnn_reference : lab.scale().mlp_reference;
    Series s{.name = model.name()};
    for (size_t i = 0; i < optimizer_names().size(); ++i)
      add_point(s, static_cast<double>(i), lab.find(emc_request(model, "random", "real", 0, optimizer_names()[i])));
    plot.series.push_back(s);
  }
  PlotFile file{"optimizers.png", plot.title, false};
  if (has_data(plot.series)) file.drawn = experiments::bar_plot(out / file.file, plot);
  return file;
}

PlotFile classes(const Lab& lab, const std::filesystem::path& out) {
  std::vector<Series> series;
  for (const std::string labels : {"semantic", "random"}) {
    Series s{.name = labels + " labels"};
    for (int64_t k : {2, 5, 0})
      add_point(s, k ? k : 10, lab.find(emc_request(lab.scale().mlp_reference, labels, "real", k)));
    series.push_back(s);
  }
  PlotFile file{"classes.png", "EMC against the number of classes (" + lab.scale().mlp_reference.name() + ")", false};
  if (has_data(series))
    file.drawn = experiments::line_plot(
        out / file.file,
        {.title = file.title, .xlabel = "classes", .ylabel = "EMC", .log_x = false, .log_y = true, .series = series});
  return file;
}

PlotFile gain_vs_gap(const Lab& lab, const std::filesystem::path& out) {
  Series s{.name = "models"};
  s.points_only = true;
  for (const auto& p : generalisation_points(lab)) {
    s.x.push_back(p.gain);
    s.y.push_back(p.gap);
    s.labels.push_back(p.name + (p.censored ? " (>=)" : ""));
  }
  PlotFile file{"gain_vs_gap.png", "EMC gain (semantic / random labels) against generalisation gap", false};
  if (!s.x.empty())
    file.drawn = experiments::line_plot(out / file.file, {.title = file.title,
                                                          .xlabel = "EMC gain: EMC semantic / EMC random",
                                                          .ylabel = "train accuracy - test accuracy",
                                                          .log_x = true,
                                                          .log_y = false,
                                                          .series = {s}});
  return file;
}

PlotFile cover(const Lab& lab, const std::filesystem::path& out) {
  Series measured{.name = "measured EMC (linear, full-batch GD)"}, theory{.name = "Cover: 2(d+1)"};
  measured.points_only = true;
  theory.dashed = true;
  for (int64_t d : cover_dimensions(lab.scale())) {
    add_point(measured, static_cast<double>(d), lab.find(cover_request(d)));
    theory.x.push_back(static_cast<double>(d));
    theory.y.push_back(2.0 * (d + 1));
  }
  PlotFile file{"cover.png", "Method check: linear classifier on Gaussian points", false};
  if (has_data({measured}))
    file.drawn = experiments::line_plot(out / file.file, {.title = file.title,
                                                          .xlabel = "dimensions d",
                                                          .ylabel = "EMC",
                                                          .log_x = false,
                                                          .log_y = false,
                                                          .series = {measured, theory}});
  return file;
}

}  // namespace

std::vector<PlotFile> write_plots(const Lab& lab) {
  const auto& out = lab.options().out;
  return {cover(lab, out),      data_sets(lab, out),     labels_inputs(lab, out),
          classes(lab, out),    emc_vs_params(lab, out), width_depth(lab, out),
          activation(lab, out), optimizers(lab, out),    gain_vs_gap(lab, out)};
}

}  // namespace ember::emc
