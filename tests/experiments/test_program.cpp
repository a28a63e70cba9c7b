// The experiment skeleton: modes and flags, journal and resume, shards and merge, atomic
// results, and the one verdict rule.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "experiments/common/program.h"
#include "experiments/common/results_dir.h"
#include "experiments/common/verdict.h"
#include "tensor/error.h"

namespace fs = std::filesystem;
using namespace ember::experiments;
using nlohmann::json;

namespace {

struct Counter {
  int runs = 0;
  bool fail_on_b2 = false;
};

// Two studies, five jobs; each job records its key and seed-dependent value.
Program toy_program(Counter& counter) {
  Program p;
  p.info = {.name = "toy",
            .title = "does a beat b?",
            .source = "a test",
            .description = "a toy program",
            .studies = {{"a", "the a study"}, {"b", "the b study"}},
            .mode_help = {"tiny", "small", "big"}};
  p.plan = [&counter](const RunOptions& o) {
    std::vector<Job> jobs;
    for (int i = 0; i < 3; ++i)
      jobs.push_back({"a", "a" + std::to_string(i), 1.0 + i, [&counter, i, &o](JobContext& ctx) {
                        ++counter.runs;
                        ctx.record({{"key", "a" + std::to_string(i)}, {"value", 10.0 * i + double(o.seed)}});
                      }});
    for (int i = 0; i < 2; ++i)
      jobs.push_back({"b", "b" + std::to_string(i), 2.0, [&counter, i](JobContext& ctx) {
                        ++counter.runs;
                        ember::check(!(counter.fail_on_b2 && i == 1), "deliberate failure");
                        ctx.record({{"key", "b" + std::to_string(i)}, {"value", 1.0 * i}, {"note", "x,y"}});
                      }});
    return jobs;
  };
  p.report = [](const RunOptions&, const Records& records, Report& report) {
    std::vector<double> a, b;
    for (const auto& r : records.count("a") ? records.at("a") : std::vector<Record>{}) a.push_back(r["value"]);
    report.claim({"1", "a is big", "yes", std::to_string(a.size()) + " rows", decide(bootstrap_mean(a), above(0))});
    report.untested("c", "no data");
    report.scale_note("smaller");
    report.section("Details", "text");
  };
  return p;
}

int run(const Program& p, std::vector<std::string> args, std::string* log_text = nullptr) {
  std::vector<char*> argv;
  std::string name = "toy";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream log;
  const int rc = run_program(p, static_cast<int>(argv.size()), argv.data(), log);
  if (log_text) *log_text = log.str();
  return rc;
}

std::string slurp(const fs::path& f) {
  std::ifstream in(f);
  return {std::istreambuf_iterator<char>(in), {}};
}

class ProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("ember_program_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    out = (dir / "res").string();
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
  std::string out;
};

}  // namespace

TEST_F(ProgramTest, WritesEveryOutput) {
  Counter c;
  Program p = toy_program(c);
  ASSERT_EQ(run(p, {"--out", out, "--seed", "3"}), 0);
  EXPECT_EQ(c.runs, 5);
  EXPECT_EQ(slurp(fs::path(out) / "a.csv"), "key,value\na0,3\na1,13\na2,23\n");
  EXPECT_EQ(slurp(fs::path(out) / "b.csv"), "key,value,note\nb0,0,\"x,y\"\nb1,1,\"x,y\"\n");
  const std::string report = slurp(fs::path(out) / "REPORT.md");
  EXPECT_NE(report.find("# toy: does a beat b?"), std::string::npos);
  EXPECT_NE(report.find("**Verdict rule**"), std::string::npos);
  EXPECT_NE(report.find("3 replicates, fewer than the 5"), std::string::npos);
  EXPECT_NE(report.find("## Claims not tested here"), std::string::npos);
  const json summary = json::parse(slurp(fs::path(out) / "summary.json"));
  EXPECT_EQ(summary["claims"][0]["verdict"], "inconclusive");
  EXPECT_EQ(summary["run"]["seed"], 3);
  EXPECT_EQ(summary["run"]["mode"], "quick");
  EXPECT_FALSE(fs::exists(out + ".partial"));
}

TEST_F(ProgramTest, StudySelection) {
  Counter c;
  Program p = toy_program(c);
  ASSERT_EQ(run(p, {"--out", out, "--study", "b", "--standard"}), 0);
  EXPECT_EQ(c.runs, 2);
  EXPECT_TRUE(fs::exists(fs::path(out) / "b.csv"));
  EXPECT_FALSE(fs::exists(fs::path(out) / "a.csv"));
}

TEST_F(ProgramTest, FailureKeepsOldResultsAndResumeFinishes) {
  Counter c;
  Program p = toy_program(c);
  ASSERT_EQ(run(p, {"--out", out}), 0);
  const std::string old_report = slurp(fs::path(out) / "REPORT.md");
  c.fail_on_b2 = true;
  c.runs = 0;
  EXPECT_EQ(run(p, {"--out", out, "--seed", "1"}), 1);
  EXPECT_EQ(slurp(fs::path(out) / "REPORT.md"), old_report);  // untouched
  EXPECT_EQ(slurp(fs::path(out) / "a.csv"), "key,value\na0,0\na1,10\na2,20\n");
  EXPECT_TRUE(fs::exists(out + ".partial/records.jsonl"));
  // Resuming with other settings is refused; with the same ones only the missing job runs.
  c.fail_on_b2 = false;
  EXPECT_EQ(run(p, {"--out", out, "--seed", "2", "--resume"}), 1);
  ASSERT_EQ(run(p, {"--out", out, "--seed", "1", "--resume"}), 0);
}

TEST_F(ProgramTest, ResumeRunsOnlyWhatIsMissing) {
  Counter c;
  c.fail_on_b2 = true;
  Program p = toy_program(c);
  EXPECT_EQ(run(p, {"--out", out}), 1);
  EXPECT_EQ(c.runs, 5);
  c.fail_on_b2 = false;
  c.runs = 0;
  ASSERT_EQ(run(p, {"--out", out, "--resume"}), 0);
  EXPECT_EQ(c.runs, 1);
  EXPECT_EQ(slurp(fs::path(out) / "b.csv"), "key,value,note\nb0,0,\"x,y\"\nb1,1,\"x,y\"\n");
}

TEST_F(ProgramTest, ShardsMergeToTheSingleRun) {
  Counter c;
  Program p = toy_program(c);
  ASSERT_EQ(run(p, {"--out", out + "-single"}), 0);
  EXPECT_EQ(run(p, {"--out", out, "--merge"}), 1);  // no shards yet
  ASSERT_EQ(run(p, {"--out", out, "--shard", "0/2"}), 0);
  EXPECT_EQ(run(p, {"--out", out, "--merge"}), 1);  // one of two missing
  ASSERT_EQ(run(p, {"--out", out, "--shard", "1/2"}), 0);
  EXPECT_EQ(run(p, {"--out", out, "--merge", "--seed", "9"}), 1);  // other settings
  c.runs = 0;
  ASSERT_EQ(run(p, {"--out", out, "--merge"}), 0);
  EXPECT_EQ(c.runs, 0);
  EXPECT_EQ(slurp(fs::path(out) / "a.csv"), slurp(fs::path(out + "-single") / "a.csv"));
  EXPECT_EQ(slurp(fs::path(out) / "b.csv"), slurp(fs::path(out + "-single") / "b.csv"));
  ASSERT_EQ(run(p, {"--out", out, "--report-only"}), 0);
  EXPECT_EQ(slurp(fs::path(out) / "a.csv"), slurp(fs::path(out + "-single") / "a.csv"));
}

TEST_F(ProgramTest, BadFlagsExitNonZero) {
  Counter c;
  Program p = toy_program(c);
  for (const auto& args : std::vector<std::vector<std::string>>{{"--shard", "2/2"},
                                                                {"--shard", "x"},
                                                                {"--shard", "1/0"},
                                                                {"--device", "cuda:x"},
                                                                {"--device", "tpu"},
                                                                {"--study", "nope"},
                                                                {"--quick", "--full"},
                                                                {"--seed", "-1x"},
                                                                {"--shard", "0/2", "--merge"}}) {
    std::vector<std::string> a = args;
    a.push_back("--out");
    a.push_back(out);
    EXPECT_NE(run(p, a), 0) << args[0] << " " << args[1];
  }
  EXPECT_EQ(c.runs, 0);
  fs::create_directories(dir / "file_parent");
  std::ofstream(dir / "file_parent" / "res") << "x";  // --out names a file
  EXPECT_EQ(run(p, {"--out", (dir / "file_parent" / "res").string()}), 1);
}

TEST(Shards, CoverEveryJobOnceAndBalance) {
  std::vector<Job> jobs;
  for (int i = 0; i < 10; ++i) jobs.push_back({"s", "k" + std::to_string(i), double(i + 1), nullptr});
  std::set<std::string> seen;
  for (int k = 0; k < 3; ++k) {
    double load = 0;
    for (const auto& j : shard_jobs(jobs, {k, 3})) {
      EXPECT_TRUE(seen.insert(j.key).second);
      load += j.cost;
    }
    EXPECT_NEAR(load, 55.0 / 3, 2.0);  // 55 units in three parts of 18-19
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST(ResultsDirTest, CommitReplacesWholeFolder) {
  const fs::path base = fs::temp_directory_path() / ("ember_resdir_" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base / "out");
  std::ofstream(base / "out" / "stale.csv") << "old";
  ResultsDir dir(base / "out", false);
  dir.write_text("new.csv", "new");
  EXPECT_TRUE(fs::exists(base / "out" / "stale.csv"));  // nothing changes before commit
  dir.commit();
  EXPECT_FALSE(fs::exists(base / "out" / "stale.csv"));
  EXPECT_EQ(slurp(base / "out" / "new.csv"), "new");
  EXPECT_FALSE(fs::exists(base / "out.partial"));
  fs::create_directories(base / "out2" / "REPORT.md");  // a folder where a file goes
  ResultsDir blocked(base / "out2", false);
  fs::create_directories(blocked.staging() / "REPORT.md");
  EXPECT_THROW(blocked.write_text("REPORT.md", "x"), ember::Error);
  fs::remove_all(base);
}

// The verdict rule on synthetic paired data with known differences.
TEST(VerdictRule, KnownDifferences) {
  std::vector<double> base = {1.0, 1.2, 0.9, 1.1, 1.05, 0.95, 1.0, 1.1};
  std::vector<double> better, same, worse;
  const double noise[] = {0.01, -0.02, 0.015, -0.01, 0.0, 0.02, -0.015, 0.005};
  for (size_t i = 0; i < base.size(); ++i) {
    better.push_back(base[i] + 0.5 + noise[i]);
    same.push_back(base[i] + noise[i] * 10);
    worse.push_back(base[i] - 0.5 + noise[i]);
  }
  EXPECT_EQ(decide(paired_difference(better, base), above(0)).verdict, Verdict::Supported);
  EXPECT_EQ(decide(paired_difference(worse, base), above(0)).verdict, Verdict::Contradicted);
  EXPECT_EQ(decide(paired_difference(same, base), above(0)).verdict, Verdict::Inconclusive);
  // A budget note overrides the interval; too few replicates are inconclusive.
  EXPECT_EQ(decide(paired_difference(better, base), above(0), "loss still falling").verdict, Verdict::Inconclusive);
  std::vector<double> few_a(better.begin(), better.begin() + 4), few_b(base.begin(), base.begin() + 4);
  EXPECT_EQ(decide(paired_difference(few_a, few_b), above(0)).verdict, Verdict::Inconclusive);
  // A bounded region: 15-20% saving.
  std::vector<double> cost_b = {100, 102, 98, 101, 99, 100}, cost_a;
  for (double v : cost_b) cost_a.push_back(v * 0.825);
  const Interval saving = paired_relative_saving(cost_a, cost_b);
  EXPECT_NEAR(saving.estimate, 0.175, 1e-12);
  EXPECT_EQ(decide(saving, {0.15, 0.20}).verdict, Verdict::Supported);
  EXPECT_EQ(decide(saving, {0.22, 0.25}).verdict, Verdict::Contradicted);
  EXPECT_THROW(paired_difference({1, 2}, {1}), ember::Error);
  EXPECT_THROW(decide(saving, {0.2, 0.1}), ember::Error);
}

TEST(VerdictRule, BootstrapIntervalCoversTheMean) {
  std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const Interval ci = bootstrap_mean(v);
  EXPECT_DOUBLE_EQ(ci.estimate, 5.5);
  EXPECT_LT(ci.lo, 5.5);
  EXPECT_GT(ci.hi, 5.5);
  EXPECT_GT(ci.lo, 3.0);  // the standard error is ~0.9: the 95% interval is about 5.5 +- 1.8
  EXPECT_LT(ci.hi, 8.0);
  EXPECT_EQ(ci.n, 10);
  const Interval again = bootstrap_mean(v);  // fixed generator: reproducible
  EXPECT_EQ(ci.lo, again.lo);
  EXPECT_EQ(ci.hi, again.hi);
}
