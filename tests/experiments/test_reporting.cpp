// Reporting helpers: CSV quoting, Markdown tables and numbers, statistics, and PNG plots
// (drawn where gnuplot is installed, skipped cleanly where not).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "experiments/common/csv.h"
#include "experiments/common/markdown.h"
#include "experiments/common/plot.h"
#include "experiments/common/stats.h"
#include "tensor/error.h"

namespace ember::experiments {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Csv, QuotesWhatNeedsQuotingAndChecksWidth) {
  const fs::path file = fs::temp_directory_path() / "ember-csv-test.csv";
  {
    CsvWriter csv(file, {"name", "value", "ok"});
    csv.row(std::string("cnn[8,16]"), 0.125, true);
    csv.row("say \"hi\"", 3, false);
    EXPECT_THROW(csv.row(1, 2), Error);
  }
  EXPECT_EQ(read(file), "name,value,ok\n\"cnn[8,16]\",0.125,true\n\"say \"\"hi\"\"\",3,false\n");
  fs::remove(file);
}

TEST(Markdown, TablesAndNumbers) {
  EXPECT_EQ(markdown_table({"a", "b|c"}, {{"1", "x\ny"}}), "| a | b\\|c |\n| --- | --- |\n| 1 | x y |\n");
  EXPECT_EQ(format_number(1234.4), "1234");
  EXPECT_EQ(format_number(0.012345), "0.0123");
  EXPECT_EQ(format_number(2.5), "2.50");
  EXPECT_EQ(format_number(std::nan("")), "n/a");
  EXPECT_EQ(format_mean_sd(100, 12.6), "100 ± 13");
  EXPECT_EQ(format_mean_sd(100, 0), "100");
  EXPECT_EQ(format_duration(5.25), "5.2 s");
  EXPECT_EQ(format_duration(125), "2 min 05 s");
  EXPECT_EQ(format_duration(3720), "1 h 02 min");
}

TEST(Stats, MeansAndCorrelations) {
  EXPECT_DOUBLE_EQ(mean_of({1, 2, 3, 6}), 3);
  EXPECT_NEAR(stddev_of({2, 4, 4, 4, 5, 5, 7, 9}), 2.138, 1e-3);
  EXPECT_EQ(stddev_of({5}), 0);
  EXPECT_NEAR(pearson({1, 2, 3, 4}, {2, 4, 6, 8}), 1, 1e-12);
  EXPECT_NEAR(pearson({1, 2, 3, 4}, {8, 6, 4, 2}), -1, 1e-12);
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 10, 100, 1000}), 1, 1e-12);
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 2, 2, 3}), 1, 1e-12);  // ties take their average rank
  EXPECT_TRUE(std::isnan(pearson({1, 1, 1}, {1, 2, 3})));
  EXPECT_THROW(pearson({1, 2}, {1}), Error);
}

TEST(Plot, DrawsPngsOrSkipsWithoutGnuplot) {
  const fs::path dir = fs::temp_directory_path() / "ember-plot-test";
  fs::remove_all(dir);
  Series line{.name = "it's a line", .x = {1, 10, 100}, .y = {2, 20, std::nan("")}, .err = {0.5, 1, 0}};
  line.labels = {"a", "b", "c"};
  Series ref{.name = "y = x", .x = {1, 100}, .y = {1, 100}};
  ref.dashed = true;
  const bool drawn =
      line_plot(dir / "line.png",
                {.title = "t", .xlabel = "x", .ylabel = "y", .log_x = true, .log_y = true, .series = {line, ref}});
  const bool bars = bar_plot(dir / "bars.png", {.title = "b",
                                                .ylabel = "EMC",
                                                .categories = {"sgd", "adam"},
                                                .series = {{.name = "mlp", .y = {10, 20}, .err = {1, 2}}}});
  EXPECT_EQ(drawn, plotting_available());
  EXPECT_EQ(bars, plotting_available());
  if (plotting_available()) {
    for (const char* f : {"line.png", "bars.png"}) EXPECT_EQ(read(dir / f).substr(1, 3), "PNG") << f;
  }
  EXPECT_THROW(bar_plot(dir / "bad.png", {.title = "b", .categories = {"one"}, .series = {{.name = "s", .y = {1, 2}}}}),
               Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ember::experiments
