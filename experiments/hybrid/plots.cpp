// The report's tables and plots: scaling curves with their fits, the sequence-length sweep,
// memory and time bars.
#include <cmath>
#include <map>

#include "experiments/common/markdown.h"
#include "experiments/common/stats.h"
#include "experiments/hybrid/fits.h"
#include "experiments/hybrid/program.h"

namespace ember::hybrid {

using experiments::format_mean_sd;
using experiments::format_number;
using experiments::Record;
using experiments::Records;
using experiments::Series;

namespace {

double number(const Record& r, const std::string& key) {
  return r.contains(key) && r[key].is_number() ? r[key].get<double>() : std::nan("");
}

// family -> size -> the runs.
std::map<std::string, std::map<int, std::vector<Record>>> by_family_size(const std::vector<Record>& rows,
                                                                         const std::string& domain) {
  std::map<std::string, std::map<int, std::vector<Record>>> out;
  for (const auto& r : rows)
    if (r["domain"] == domain) out[r["family"].get<std::string>()][r["size"].get<int>()].push_back(r);
  return out;
}

std::vector<double> values(const std::vector<Record>& runs, const std::string& key) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(number(r, key));
  return v;
}

// Mean points per size and the fitted power law over all runs, per family.
experiments::LinePlot scaling_plot(const std::map<std::string, std::map<int, std::vector<Record>>>& families,
                                   const std::string& key, const std::string& xlabel, const std::string& title) {
  experiments::LinePlot plot{.title = title, .xlabel = xlabel, .ylabel = "validation loss", .log_x = true, .log_y = true};
  for (const auto& [family, sizes] : families) {
    Series points{.name = family, .points_only = true};
    std::vector<double> xs, ys;
    for (const auto& [size, runs] : sizes) {
      points.x.push_back(experiments::mean_of(values(runs, key)));
      points.y.push_back(experiments::mean_of(values(runs, "val_loss")));
      points.err.push_back(experiments::stddev_of(values(runs, "val_loss")));
      for (const auto& r : runs) xs.push_back(number(r, key)), ys.push_back(number(r, "val_loss"));
    }
    plot.series.push_back(points);
    if (std::isnan(xs.front())) continue;
    const FittedLine fit = fitted_line({xs, ys});
    if (fit.x.empty()) continue;
    plot.series.push_back({.name = family + " fit (b = " + format_number(fit.exponent, 2) + ")", .x = fit.x,
                           .y = fit.loss, .dashed = true});
  }
  return plot;
}

void scaling_section(const std::vector<Record>& rows, const std::string& domain, experiments::Report& report) {
  const auto families = by_family_size(rows, domain);
  if (families.empty()) return;
  std::vector<std::vector<std::string>> table;
  for (const auto& [family, sizes] : families)
    for (const auto& [size, runs] : sizes) {
      auto cell = [&](const std::string& key) {
        const auto v = values(runs, key);
        return std::isnan(v.front()) ? std::string("-") : format_mean_sd(experiments::mean_of(v), experiments::stddev_of(v));
      };
      table.push_back({family, std::to_string(size), cell("params"), cell("train_flops"), cell("peak_bytes"),
                       cell("train_seconds"), cell("val_loss"), cell("val_error"), std::to_string(runs.size())});
    }
  report.section("Scaling: " + domain,
                 experiments::markdown_table({"family", "size", "parameters", "training FLOPs", "peak bytes", "seconds",
                                              "val loss", "val error", "seeds"},
                                             table));
  report.line_plot("scaling_" + domain + "_params.png",
                   scaling_plot(families, "params", "parameters", domain + ": validation loss vs parameters"));
  report.line_plot("scaling_" + domain + "_flops.png",
                   scaling_plot(families, "train_flops", "training FLOPs", domain + ": validation loss vs training FLOPs"));
  // Memory and time per size, bars with the spread over seeds.
  for (const auto& [key, label] : std::vector<std::pair<std::string, std::string>>{{"peak_bytes", "peak bytes of a step"},
                                                                                   {"train_seconds", "training seconds"}}) {
    experiments::BarPlot bars{.title = domain + ": " + label, .ylabel = label, .log_y = true};
    for (const auto& [family, sizes] : families) {
      Series s{.name = family};
      bars.categories.clear();
      for (const auto& [size, runs] : sizes) {
        bars.categories.push_back("size " + std::to_string(size));
        s.y.push_back(experiments::mean_of(values(runs, key)));
        s.err.push_back(experiments::stddev_of(values(runs, key)));
      }
      bars.series.push_back(s);
    }
    report.bar_plot("bars_" + domain + "_" + key + ".png", bars);
  }
}

void length_section(const std::vector<Record>& rows, experiments::Report& report) {
  if (rows.empty()) return;
  // domain/family -> length -> the repeats.
  std::map<std::string, std::map<double, std::vector<Record>>> curves;
  for (const auto& r : rows) curves[r["domain"].get<std::string>() + "/" + r["family"].get<std::string>()][number(r, "length")].push_back(r);
  std::vector<std::vector<std::string>> table;
  for (const auto& [key, quantity] : std::vector<std::pair<std::string, std::string>>{
           {"flops", "FLOPs of a training step"}, {"peak_bytes", "peak bytes of a training step"}, {"seconds", "seconds of a training step"}}) {
    experiments::LinePlot plot{.title = "sequence length sweep: " + quantity, .xlabel = "sequence length (pixels or bytes)",
                               .ylabel = quantity, .log_x = true, .log_y = true};
    for (const auto& [name, lengths] : curves) {
      Series s{.name = name};
      for (const auto& [length, repeats] : lengths) {
        s.x.push_back(length);
        s.y.push_back(experiments::mean_of(values(repeats, key)));
      }
      plot.series.push_back(s);
    }
    report.line_plot("length_" + key + ".png", plot);
  }
  for (const auto& [name, lengths] : curves)
    for (const auto& [length, repeats] : lengths)
      table.push_back({name, format_number(length), format_number(number(repeats.front(), "flops")),
                       format_number(number(repeats.front(), "peak_bytes")),
                       format_number(experiments::mean_of(values(repeats, "seconds")) * 1e3)});
  report.section("Sequence-length sweep (one training step; exponents are the log-log slope between the two largest lengths)",
                 experiments::markdown_table({"domain/family", "length", "FLOPs", "peak bytes", "ms (mean)"}, table));
}

void runs_section(const std::string& title, const std::vector<Record>& rows, experiments::Report& report) {
  if (rows.empty()) return;
  std::map<std::string, std::vector<Record>> families;
  for (const auto& r : rows) families[r["family"].get<std::string>()].push_back(r);
  std::vector<std::vector<std::string>> table;
  for (const auto& [family, runs] : families) {
    auto cell = [&](const std::string& key) {
      const auto v = values(runs, key);
      return std::isnan(v.front()) ? std::string("-") : format_mean_sd(experiments::mean_of(v), experiments::stddev_of(v));
    };
    table.push_back({family, cell("params"), cell("flops_per_step"), cell("peak_bytes"), cell("train_seconds"),
                     cell("val_error"), std::to_string(runs.size())});
  }
  report.section(title, experiments::markdown_table({"family", "parameters", "FLOPs a step", "peak bytes", "seconds",
                                                     "val error", "seeds"},
                                                    table));
}

const std::vector<Record>& rows_of(const Records& records, const std::string& study) {
  static const std::vector<Record> none;
  auto it = records.find(study);
  return it == records.end() ? none : it->second;
}

}  // namespace

void write_tables_and_plots(const experiments::RunOptions&, const Records& records, experiments::Report& report) {
  scaling_section(rows_of(records, "scaling"), "image", report);
  scaling_section(rows_of(records, "scaling"), "text", report);
  length_section(rows_of(records, "length"), report);
  runs_section("Systems at small scale (video, CNN)", rows_of(records, "systems"), report);
  runs_section("Balance: order of conv and attention blocks at equal parameters (text)", rows_of(records, "balance"), report);
  scaling_section(rows_of(records, "named"), "image-small", report);
}

}  // namespace ember::hybrid
