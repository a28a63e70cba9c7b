#pragma once
// The skeleton of every experiment program. A program describes itself (name, source document,
// studies), adds its own flags, plans its work as a list of jobs, and turns the records the
// jobs produced into a report; the skeleton does the rest:
//   - the common command line: --quick (default) / --standard / --full, --study NAME
//     (repeatable), --shard K/N, --merge, --report-only, --resume, --device, --seed, --out, --data;
//   - running the planned jobs with a progress line and ETA, journalling each finished job in
//     `<out>.partial/records.jsonl` (so --resume continues an interrupted run);
//   - shards: `--shard K/N` runs the K-th of N cost-balanced parts of the plan into
//     `<out>.shards/K-of-N/`; `--merge` (same flags, without --shard) checks that all N parts
//     are there and made with the same settings, and writes the report from them;
//   - writing the results atomically (results_dir.h): one CSV per study (`<study>.csv`),
//     records.jsonl, summary.json, the program's PNG plots and REPORT.md (the claims with their
//     verdicts by the one rule of verdict.h, the rule itself, the machine and commit, the scale
//     notes), then replacing `--out` as a whole. Any failure exits non-zero and leaves the
//     previous results untouched.
// See experiments/README.md for a walk-through of a new program.
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "experiments/common/plot.h"
#include "experiments/common/progress.h"
#include "experiments/common/verdict.h"
#include "tensor/device.h"

namespace CLI {
class App;
}

namespace ember::experiments {

enum class Mode { Quick, Standard, Full };
std::string mode_name(Mode mode);  // "quick", "standard", "full"

struct Shard {
  int index = 0, count = 1;  // part `index` (0-based) of `count`
  bool active() const { return count > 1; }
};
// "K/N" with 0 <= K < N; throws ember::Error naming --shard otherwise.
Shard parse_shard(const std::string& text);
// "cpu", "cuda", "cuda:N"; throws ember::Error naming --device otherwise.
Device parse_device(const std::string& text);

struct RunOptions {
  Mode mode = Mode::Quick;
  std::vector<std::string> studies;  // the studies to run; every study when none was named
  Shard shard;
  Device device = Device::cpu();
  uint64_t seed = 0;
  std::filesystem::path out, data = "data";
  bool runs(const std::string& study) const;  // whether `study` is selected
};

struct StudyInfo {
  std::string name, question;
};

struct ProgramInfo {
  std::string name;         // "hyena": the binary, results/<name>, the report's title
  std::string title;        // one line: what the program asks
  std::string source;       // the document whose claims it tests (authors, title, where)
  std::string description;  // --help text: what it measures and writes
  std::vector<StudyInfo> studies;
  std::string mode_help[3] = {"", "", ""};  // what --quick, --standard and --full run (and their time)
};

// One record is one CSV row: a JSON object of scalars (numbers, strings, booleans), its keys
// kept in the order they were set (the CSV's column order).
using Record = nlohmann::ordered_json;
// Records by study, in the plan's order of jobs.
using Records = std::map<std::string, std::vector<Record>>;

class JobContext {
 public:
  JobContext(const RunOptions& options, Progress& progress) : options(options), progress(progress) {}
  const RunOptions& options;
  Progress& progress;  // for lines inside a long job (check progress.due() first)
  // Adds one row to the job's study.
  void record(Record row);
  const std::vector<Record>& rows() const { return rows_; }

 private:
  std::vector<Record> rows_;
};

struct Job {
  std::string study;  // the study it belongs to (one of ProgramInfo::studies)
  std::string key;    // unique in the plan: the journal's key for --resume and shards
  double cost = 1;    // expected relative cost, for the ETA and for balancing shards
  std::function<void(JobContext&)> run;
};

// What produced the results, for the report.
struct RunInfo {
  std::string program, mode, command_line, machine, commit, device, started;
  uint64_t seed = 0;
  int threads = 1, shards = 1;
  double seconds = 0;  // the jobs' wall time (summed over shards)
  std::vector<std::string> studies;
};

struct ClaimRow {
  std::string id;      // "1", "2a", ...
  std::string claim;   // the claim in a few words
  std::string source;  // what the source says (its number)
  std::string ours;    // what we measured, with the interval
  Decision decision;
};

// The report a program fills from its records: claims, sections, plots, summary fields. The
// skeleton adds the header (program, source, run info), the verdict rule and the file list.
class Report {
 public:
  Report(const ProgramInfo& program, const RunInfo& run, std::filesystem::path folder);

  void claim(ClaimRow row);
  // A claim of the source that is not tested here, and why.
  void untested(const std::string& claim, const std::string& why);
  // How this scale differs from the source's (one bullet each).
  void scale_note(const std::string& text);
  void section(const std::string& title, const std::string& markdown);
  // Draws a plot into the results folder and lists it in the report; false where gnuplot is
  // missing (the report says so).
  bool line_plot(const std::string& file, const LinePlot& plot);
  bool bar_plot(const std::string& file, const BarPlot& plot);
  // Extra fields of summary.json (the claims, run info and files are added by the skeleton).
  nlohmann::json& summary() { return summary_; }

  const std::vector<ClaimRow>& claims() const { return claims_; }
  std::string markdown() const;
  nlohmann::json summary_json() const;

 private:
  const ProgramInfo& program_;
  RunInfo run_;
  std::filesystem::path folder_;
  std::vector<ClaimRow> claims_;
  std::vector<std::pair<std::string, std::string>> untested_, sections_;
  std::vector<std::string> scale_notes_;
  std::vector<std::pair<std::string, bool>> plots_;  // file, drawn
  nlohmann::json summary_ = nlohmann::json::object();
};

struct Program {
  ProgramInfo info;
  // Adds the program's own flags (optional).
  std::function<void(CLI::App&)> add_flags = nullptr;
  // Checks the parsed flags together (optional); throw ember::Error naming the flag.
  std::function<void(const RunOptions&)> validate = nullptr;
  // The jobs of a run, deterministic for the same flags (shards rely on it). Jobs of studies
  // that were not selected are dropped by the skeleton.
  std::function<std::vector<Job>(const RunOptions&)> plan;
  // Reads the records and fills the report.
  std::function<void(const RunOptions&, const Records&, Report&)> report;
};

// The program's main: parses the command line, runs, writes. Returns the exit code (0 done,
// 1 a failure, with the message on stderr, 2 a usage error).
int run_program(const Program& program, int argc, char** argv, std::ostream& log);

// The jobs of shard `shard` out of `jobs`: greedy balance by cost (largest first onto the least
// loaded part), deterministic.
std::vector<Job> shard_jobs(const std::vector<Job>& jobs, const Shard& shard);

// Writes `<study>.csv` for each study from its records: the columns are the keys in the order
// they first appear.
std::string records_csv(const std::vector<Record>& rows);

}  // namespace ember::experiments
