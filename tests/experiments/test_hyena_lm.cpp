// The hyena experiment's language-modelling pieces: the FLOPs-to-loss frontier and a clear error
// for a missing corpus.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "experiments/hyena/lm.h"
#include "experiments/hyena/program.h"

using namespace ember::hyena;

TEST(HyenaLM, FlopsToReachInterpolatesOnTheFrontier) {
  // Two sizes pooled: the frontier is the running minimum over FLOPs.
  const std::vector<std::pair<double, double>> points = {{1e3, 3.0}, {1e4, 2.0}, {1e5, 1.0}, {2e3, 2.5}, {4e4, 1.8}};
  EXPECT_DOUBLE_EQ(flops_to_reach(points, 3.0), 1e3);
  // Between 4e4 (frontier 1.8) and 1e5 (1.0): 1.4 is halfway in log FLOPs.
  EXPECT_NEAR(flops_to_reach(points, 1.4), std::sqrt(4e4 * 1e5), 1e-6 * 1e5);
  EXPECT_NEAR(flops_to_reach(points, 2.0), 1e4, 1e-9);
  EXPECT_TRUE(std::isnan(flops_to_reach(points, 0.5)));
}

TEST(HyenaLM, MissingCorpusIsAClearError) {
  const auto program = hyena_program();
  std::vector<std::string> args = {"hyena", "--study", "lm", "--data", "/nonexistent/hyena-data", "--out",
                                   testing::TempDir() + "hyena_lm_missing"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream log;
  testing::internal::CaptureStderr();
  const int rc = ember::experiments::run_program(program, static_cast<int>(argv.size()), argv.data(), log);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_NE((err + log.str()).find("bible/kjv.txt"), std::string::npos) << err << log.str();
}
