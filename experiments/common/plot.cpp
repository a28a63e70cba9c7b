#include "experiments/common/plot.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace ember::experiments {
namespace {

// A gnuplot string literal: single quotes, with embedded single quotes doubled.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += (c == '\'') ? std::string("''") : std::string(1, c);
  return out + "'";
}

// A string field of the data file: double quotes (gnuplot's data files know no others).
std::string data_string(std::string text) {
  for (char& c : text)
    if (c == '"') c = '\'';
  return "\"" + text + "\"";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "?";
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

// A fresh scratch folder, removed when the plot is done.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("ember-plot-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

std::string header(const std::filesystem::path& png, const std::string& title) {
  std::ostringstream gp;
  gp << "set terminal pngcairo size 900,560 font 'sans,11'\n"
     << "set output " << quoted(png.string()) << "\n"
     << "set title " << quoted(title) << " noenhanced\n"
     << "set datafile missing '?'\n"
     << "set key below noenhanced\n"
     << "set grid ytics\n";
  return gp.str();
}

bool render(const std::filesystem::path& png, const std::string& script, const ScratchDir& scratch) {
  if (!plotting_available()) return false;
  std::filesystem::create_directories(png.parent_path().empty() ? "." : png.parent_path());
  auto script_file = scratch.path / "plot.gp";
  std::ofstream(script_file) << script;
  std::string command = "gnuplot " + quoted(script_file.string()) + " 2>" + quoted((scratch.path / "err").string());
  if (std::system(command.c_str()) != 0) {
    std::ifstream err(scratch.path / "err");
    std::stringstream text;
    text << err.rdbuf();
    fail("plot ", png.string(), ": gnuplot failed: ", text.str());
  }
  return true;
}

void check_series(const Series& s, size_t points, const std::filesystem::path& png) {
  check(s.y.size() == points, "plot ", png.string(), ": series '", s.name, "' has ", s.y.size(), " values for ", points,
        " points");
  check(s.err.empty() || s.err.size() == points, "plot ", png.string(), ": series '", s.name, "' has ", s.err.size(),
        " error bars for ", points, " points");
  check(s.labels.empty() || s.labels.size() == points, "plot ", png.string(), ": series '", s.name, "' has ",
        s.labels.size(), " labels for ", points, " points");
}

}  // namespace

bool plotting_available() {
  static const bool available = std::system("command -v gnuplot >/dev/null 2>&1") == 0;
  return available;
}

bool line_plot(const std::filesystem::path& png, const LinePlot& plot) {
  ScratchDir scratch;
  auto data_file = scratch.path / "data";
  std::ofstream data(data_file);
  std::ostringstream gp;
  gp << header(png, plot.title) << "set xlabel " << quoted(plot.xlabel) << "\nset ylabel " << quoted(plot.ylabel)
     << "\n";
  gp << "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n";  // no points on the frame
  if (plot.log_x) gp << "set logscale x\n";
  if (plot.log_y) gp << "set logscale y\n";
  std::vector<std::string> clauses;
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const Series& s = plot.series[i];
    check_series(s, s.x.size(), png);
    for (size_t p = 0; p < s.x.size(); ++p) {
      data << number(s.x[p]) << " " << number(s.y[p]) << " " << (s.err.empty() ? "0" : number(s.err[p])) << " "
           << data_string(s.labels.empty() ? "" : s.labels[p]) << "\n";
    }
    data << "\n\n";
    const std::string source = quoted(data_file.string()) + " index " + std::to_string(i);
    const std::string color = " lc " + std::to_string(i + 1);
    if (s.dashed) {
      clauses.push_back(source + " using 1:2 with lines dt 2 lw 2" + color + " title " + quoted(s.name));
    } else if (!s.err.empty()) {
      clauses.push_back(source + " using 1:2:3 with " + (s.points_only ? "yerrorbars" : "yerrorlines") + " pt 7 lw 2" +
                        color + " title " + quoted(s.name));
    } else {
      clauses.push_back(source + " using 1:2 with " + (s.points_only ? "points" : "linespoints") + " pt 7 ps 1.3 lw 2" +
                        color + " title " + quoted(s.name));
    }
    if (!s.labels.empty())
      clauses.push_back(source + " using 1:2:4 with labels offset 0.8,0.8 left font ',9' noenhanced notitle");
  }
  data.close();
  gp << "plot ";
  for (size_t i = 0; i < clauses.size(); ++i) gp << (i ? ", \\\n     " : "") << clauses[i];
  gp << "\n";
  return render(png, gp.str(), scratch);
}

bool bar_plot(const std::filesystem::path& png, const BarPlot& plot) {
  ScratchDir scratch;
  auto data_file = scratch.path / "data";
  std::ofstream data(data_file);
  for (const Series& s : plot.series) check_series(s, plot.categories.size(), png);
  for (size_t c = 0; c < plot.categories.size(); ++c) {
    data << data_string(plot.categories[c]);
    for (const Series& s : plot.series)
      data << " " << number(s.y[c]) << " " << (s.err.empty() ? "0" : number(s.err[c]));
    data << "\n";
  }
  data.close();
  std::ostringstream gp;
  gp << header(png, plot.title) << "set ylabel " << quoted(plot.ylabel) << "\n"
     << "set style data histograms\nset style histogram errorbars gap 1 lw 1\n"
     << "set style fill solid 0.75 border -1\nset boxwidth 0.9\nset xtics noenhanced\nset yrange [0:*]\n";
  if (plot.log_y) gp << "set logscale y\nset yrange [*:*]\n";
  gp << "plot ";
  for (size_t s = 0; s < plot.series.size(); ++s) {
    gp << (s ? ", \\\n     " : "") << quoted(data_file.string()) << " using " << 2 + 2 * s << ":" << 3 + 2 * s
       << (s == 0 ? ":xtic(1)" : "") << " lc " << s + 1 << " title " << quoted(plot.series[s].name);
  }
  gp << "\n";
  return render(png, gp.str(), scratch);
}

}  // namespace ember::experiments
