#pragma once
// PNG plots drawn by gnuplot (Debian's gnuplot-nox, pngcairo terminal): the data and script
// go to a scratch folder and gnuplot renders them. Where gnuplot is missing the plot is
// skipped and the call returns false, so a run still writes its CSV, JSON and report.
#include <filesystem>
#include <string>
#include <vector>

namespace ember::experiments {

// One line, set of points or set of bars. err (the half-height of an error bar) and labels
// (text beside each point) are optional: empty, or one per point. NaN values are left out.
struct Series {
  std::string name;
  std::vector<double> x = {}, y = {}, err = {};
  std::vector<std::string> labels = {};
  bool points_only = false;  // markers without connecting lines
  bool dashed = false;       // a reference line (e.g. y = x)
};

struct LinePlot {
  std::string title, xlabel = "", ylabel = "";
  bool log_x = false, log_y = false;
  std::vector<Series> series = {};
};

// Clustered bars: series[s].y[c] is the bar of series s in category c.
struct BarPlot {
  std::string title, ylabel = "";
  std::vector<std::string> categories = {};
  std::vector<Series> series = {};
  bool log_y = false;
};

bool plotting_available();
bool line_plot(const std::filesystem::path& png, const LinePlot& plot);
bool bar_plot(const std::filesystem::path& png, const BarPlot& plot);

}  // namespace ember::experiments
