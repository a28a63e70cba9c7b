#include "experiments/common/program.h"

#include <omp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "experiments/common/csv.h"
#include "experiments/common/markdown.h"
#include "experiments/common/results_dir.h"
#include "tensor/error.h"

namespace ember::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

std::string mode_name(Mode mode) {
  switch (mode) {
    case Mode::Quick: return "quick";
    case Mode::Standard: return "standard";
    case Mode::Full: return "full";
  }
  return "quick";
}

namespace {

std::string device_text(const Device& d) { return d.is_cpu() ? "cpu" : "cuda:" + std::to_string(d.index); }

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const std::string k = text.substr(0, slash), n = slash == std::string::npos ? "" : text.substr(slash + 1);
  check(slash != std::string::npos && all_digits(k) && all_digits(n), "--shard: '", text,
        "' is not K/N (part K of N, counted from 0)");
  Shard s{std::stoi(k), std::stoi(n)};
  check(s.count >= 1 && s.index < s.count, "--shard: part ", s.index, " of ", s.count, " does not exist (0 <= K < N)");
  return s;
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0 && all_digits(text.substr(5))) return Device::cuda(std::stoi(text.substr(5)));
  fail("--device: '", text, "' is not cpu, cuda or cuda:N");
}

bool RunOptions::runs(const std::string& study) const {
  return studies.empty() || std::find(studies.begin(), studies.end(), study) != studies.end();
}

void JobContext::record(Record row) {
  check(row.is_object(), "record: a row must be a JSON object, got ", row.type_name());
  for (const auto& [key, value] : row.items())
    check(value.is_primitive(), "record: column '", key, "' holds a ", value.type_name(), ", not a scalar");
  rows_.push_back(std::move(row));
}

// ---- shards and CSV ----------------------------------------------------------------------

std::vector<Job> shard_jobs(const std::vector<Job>& jobs, const Shard& shard) {
  if (!shard.active()) return jobs;
  std::vector<size_t> order(jobs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return jobs[a].cost > jobs[b].cost; });
  std::vector<double> load(shard.count, 0);
  std::vector<int> owner(jobs.size());
  for (size_t i : order) {
    const int part = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = part;
    load[part] += jobs[i].cost;
  }
  std::vector<Job> mine;
  for (size_t i = 0; i < jobs.size(); ++i)
    if (owner[i] == shard.index) mine.push_back(jobs[i]);
  return mine;
}

namespace {

std::string csv_field(const Record& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_escape(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) {
    std::ostringstream os;
    os.precision(10);
    os << v.get<double>();
    return os.str();
  }
  return v.dump();
}

}  // namespace

std::string records_csv(const std::vector<Record>& rows) {
  std::vector<std::string> columns;
  std::set<std::string> seen;
  for (const auto& r : rows)
    for (const auto& [key, _] : r.items())
      if (seen.insert(key).second) columns.push_back(key);
  std::string out;
  for (size_t c = 0; c < columns.size(); ++c) out += (c ? "," : "") + csv_escape(columns[c]);
  out += "\n";
  for (const auto& r : rows) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c) out += ",";
      if (r.contains(columns[c])) out += csv_field(r[columns[c]]);
    }
    out += "\n";
  }
  return out;
}

// ---- the report --------------------------------------------------------------------------

Report::Report(const ProgramInfo& program, const RunInfo& run, fs::path folder)
    : program_(program), run_(run), folder_(std::move(folder)) {}

void Report::claim(ClaimRow row) { claims_.push_back(std::move(row)); }
void Report::untested(const std::string& claim, const std::string& why) { untested_.push_back({claim, why}); }
void Report::scale_note(const std::string& text) { scale_notes_.push_back(text); }
void Report::section(const std::string& title, const std::string& markdown) { sections_.push_back({title, markdown}); }

bool Report::line_plot(const std::string& file, const LinePlot& plot) {
  const bool drawn = experiments::line_plot(folder_ / file, plot);
  plots_.push_back({file, drawn});
  return drawn;
}

bool Report::bar_plot(const std::string& file, const BarPlot& plot) {
  const bool drawn = experiments::bar_plot(folder_ / file, plot);
  plots_.push_back({file, drawn});
  return drawn;
}

std::string Report::markdown() const {
  std::ostringstream md;
  md << "# " << program_.name << ": " << program_.title << "\n\n";
  md << "Source: " << program_.source << "\n\n";
  md << "Run: `" << run_.command_line << "` — " << run_.mode << " mode, seed " << run_.seed << ", "
     << format_duration(run_.seconds) << " of jobs"
     << (run_.shards > 1 ? " in " + std::to_string(run_.shards) + " shards" : "") << ", started " << run_.started
     << ".  \nMachine: " << run_.machine << ", " << run_.threads << " threads, device " << run_.device
     << ".  \nCommit: " << run_.commit << ".\n\n";
  md << "## Verdicts\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : claims_)
    rows.push_back({c.id, c.claim, c.source, c.ours, "**" + verdict_name(c.decision.verdict) + "**", c.decision.why});
  md << (rows.empty() ? "No claim was decided in this run (no study that decides one was selected).\n"
                      : markdown_table({"#", "claim", "source says", "we measured", "verdict", "why"}, rows))
     << "\n"
     << verdict_rule_text() << "\n\n";
  if (!untested_.empty()) {
    std::vector<std::vector<std::string>> u;
    for (const auto& [claim, why] : untested_) u.push_back({claim, why});
    md << "## Claims not tested here\n\n" << markdown_table({"claim", "why not"}, u) << "\n";
  }
  if (!scale_notes_.empty()) {
    md << "## How this scale differs from the source's\n\n";
    for (const auto& n : scale_notes_) md << "- " << n << "\n";
    md << "\n";
  }
  for (const auto& [title, text] : sections_) md << "## " << title << "\n\n" << text << "\n\n";
  if (!plots_.empty()) {
    md << "## Plots\n\n";
    bool missing = false;
    for (const auto& [file, drawn] : plots_) {
      if (drawn) md << "![" << file << "](" << file << ")\n\n";
      missing = missing || !drawn;
    }
    if (missing) md << "Some plots were not drawn: gnuplot (Debian's gnuplot-nox) was not found.\n\n";
  }
  md << "## Files\n\nOne CSV per study (`<study>.csv`, one row per measurement), `records.jsonl` (the same rows "
        "as the run journalled them), `summary.json` (settings, claims, verdicts), the PNG plots above and this "
        "report.\n";
  return md.str();
}

json Report::summary_json() const {
  json claims = json::array();
  for (const auto& c : claims_)
    claims.push_back({{"id", c.id},
                      {"claim", c.claim},
                      {"source", c.source},
                      {"ours", c.ours},
                      {"verdict", verdict_name(c.decision.verdict)},
                      {"why", c.decision.why}});
  json untested = json::array();
  for (const auto& [claim, why] : untested_) untested.push_back({{"claim", claim}, {"why", why}});
  json plots = json::array();
  for (const auto& [file, drawn] : plots_) plots.push_back({{"file", file}, {"drawn", drawn}});
  json doc = {{"program", program_.name},
              {"source", program_.source},
              {"run",
               {{"command", run_.command_line},
                {"mode", run_.mode},
                {"seed", run_.seed},
                {"machine", run_.machine},
                {"commit", run_.commit},
                {"device", run_.device},
                {"threads", run_.threads},
                {"shards", run_.shards},
                {"seconds", run_.seconds},
                {"started", run_.started},
                {"studies", run_.studies}}},
              {"verdict_rule", verdict_rule_text()},
              {"claims", claims},
              {"untested", untested},
              {"scale_notes", scale_notes_},
              {"plots", plots}};
  for (const auto& [key, value] : summary_.items()) doc[key] = value;
  return doc;
}

// ---- running -----------------------------------------------------------------------------

namespace {

std::string read_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string machine_text(const Device& device) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, cpu = "unknown CPU";
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  std::string text = cpu + " (" + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " cores)";
  if (device.type == DeviceType::CUDA) {
    const std::string gpu = read_command("nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1");
    text += ", GPU " + (gpu.empty() ? std::string("unknown") : gpu);
  }
  return text;
}

std::string commit_text() {
  // A program run away from its checkout (experiments/device_bundle.sh) is told its commit.
  if (const char* given = std::getenv("EMBER_COMMIT"); given && *given) return given;
#ifdef EMBER_SOURCE_DIR
  const std::string dir = EMBER_SOURCE_DIR;
  const std::string head = read_command("git -C '" + dir + "' rev-parse --short=12 HEAD 2>/dev/null");
  if (head.empty()) return "unknown (not a git checkout)";
  const std::string dirty = read_command("git -C '" + dir + "' status --porcelain --untracked-files=no 2>/dev/null");
  return head + (dirty.empty() ? "" : " with uncommitted changes");
#else
  return "unknown";
#endif
}

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buffer;
}

// The journal of finished jobs: key -> (study, seconds, rows).
struct Journal {
  struct Entry {
    std::string study;
    double seconds = 0;
    std::vector<Record> rows;
  };
  std::map<std::string, Entry> entries;
  std::vector<std::string> order;
};

Journal read_journal(const fs::path& file) {
  Journal j;
  std::ifstream in(file);
  if (!in) return j;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    nlohmann::ordered_json e;
    try {
      e = nlohmann::ordered_json::parse(line);
    } catch (const std::exception&) {
      // A line cut short by a crash ends the journal; whatever follows is not trusted.
      break;
    }
    check(e.is_object() && e.contains("key") && e["key"].is_string() && e.contains("rows") && e["rows"].is_array(),
          file.string(), ":", number, ": not a journal entry");
    const std::string key = e["key"];
    if (!j.entries.count(key)) j.order.push_back(key);
    j.entries[key] = {e.value("study", ""), e.value("seconds", 0.0), e["rows"].get<std::vector<Record>>()};
  }
  return j;
}

void append_journal(const fs::path& file, const std::string& key, const std::string& study, double seconds,
                    const std::vector<Record>& rows) {
  std::ofstream out(file, std::ios::app);
  out << nlohmann::ordered_json{{"key", key}, {"study", study}, {"seconds", seconds}, {"rows", rows}}.dump() << "\n";
  out.flush();
  check(out.good(), file.string(), ": cannot append to the journal (disk full?)");
}

json read_json_file(const fs::path& file) {
  std::ifstream in(file);
  check(in.good(), file.string(), ": cannot read");
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    fail(file.string(), ": not valid JSON (", e.what(), ")");
  }
}

struct Settings {
  RunOptions options;
  json signature;  // everything that decides the results (not --out, --shard, --resume, ...)
  std::string command_line;
  bool merge = false, report_only = false, resume = false;
};

// Writes the CSVs, journal, report and summary of `journal` into `dir` and commits it.
void write_results(const Program& program, const Settings& s, const Journal& journal, RunInfo run, ResultsDir& dir,
                   std::ostream& log) {
  Records records;
  std::set<std::string> studies;
  for (const auto& key : journal.order) {
    const auto& e = journal.entries.at(key);
    auto& rows = records[e.study];
    rows.insert(rows.end(), e.rows.begin(), e.rows.end());
    studies.insert(e.study);
  }
  for (const auto& [study, rows] : records) dir.write_text(study + ".csv", records_csv(rows));
  if (!s.options.shard.active()) {
    run.studies.assign(studies.begin(), studies.end());
    Report report(program.info, run, dir.staging());
    program.report(s.options, records, report);
    dir.write_text("summary.json", report.summary_json().dump(2) + "\n");
    dir.write_text("REPORT.md", report.markdown());
    for (const auto& c : report.claims())
      log << "  claim " << c.id << " (" << c.claim << "): " << verdict_name(c.decision.verdict) << "\n";
  }
  dir.commit();
}

int execute(const Program& program, const Settings& s, std::ostream& log) {
  const RunOptions& o = s.options;
  RunInfo run{.program = program.info.name,
              .mode = mode_name(o.mode),
              .command_line = s.command_line,
              .machine = machine_text(o.device),
              .commit = commit_text(),
              .device = device_text(o.device),
              .started = now_text(),
              .seed = o.seed,
              .threads = omp_get_max_threads(),
              .shards = 1,
              .seconds = 0,
              .studies = {}};
  // Where and when the jobs ran: kept in run.json so that a report merged or redrawn elsewhere
  // (shards run on another machine, plots drawn later) names the machine that measured.
  auto produced = [&run] {
    return json{{"machine", run.machine}, {"commit", run.commit}, {"threads", run.threads},
                {"started", run.started}, {"shards", run.shards}};
  };
  json run_json = {{"program", program.info.name}, {"signature", s.signature}, {"produced", produced()}};

  if (s.merge || s.report_only) {
    Journal merged;
    std::vector<fs::path> sources;
    if (s.report_only) {
      sources.push_back(o.out);
    } else {
      fs::path shards = o.out;
      shards += ".shards";
      check(fs::is_directory(shards), "--merge: ", shards.string(), " not found (run the shards first with --shard K/N)");
      int count = -1;
      for (const auto& entry : fs::directory_iterator(shards)) {
        // Only finished shards, "K-of-N": an interrupted one is still "K-of-N.partial".
        const std::string name = entry.path().filename().string();
        const auto of = name.find("-of-");
        if (!entry.is_directory() || of == std::string::npos || !all_digits(name.substr(0, of)) ||
            !all_digits(name.substr(of + 4)))
          continue;
        const int n = std::stoi(name.substr(of + 4));
        check(count < 0 || n == count, "--merge: ", shards.string(), " holds shards of ", count, " and of ", n,
              " parts; remove the stale ones");
        count = n;
        sources.push_back(entry.path());
      }
      check(count > 0, "--merge: no shard folders in ", shards.string());
      check(static_cast<int>(sources.size()) == count, "--merge: ", sources.size(), " of ", count, " shards in ",
            shards.string(), "; run the missing ones");
      run.shards = count;
    }
    bool first = true;
    for (const auto& src : sources) {
      const json other = read_json_file(src / "run.json");
      check(other.value("signature", json()) == s.signature, src.string(),
            ": made with other settings than this command's (", other.value("signature", json()).dump(), " vs ",
            s.signature.dump(), ")");
      const json p = other.value("produced", json::object());
      if (first && p.is_object() && p.contains("machine")) {
        run.machine = p.value("machine", run.machine);
        run.commit = p.value("commit", run.commit);
        run.threads = p.value("threads", run.threads);
        run.started = p.value("started", run.started);
        if (s.report_only) run.shards = p.value("shards", run.shards);
      }
      first = false;
      const Journal j = read_journal(src / "records.jsonl");
      for (const auto& key : j.order) {
        check(!merged.entries.count(key), "--merge: job '", key, "' appears in two shards");
        merged.entries[key] = j.entries.at(key);
        merged.order.push_back(key);
        run.seconds += j.entries.at(key).seconds;
      }
    }
    // Journal order follows the plan so that the report reads in a stable order.
    std::vector<Job> plan = program.plan(o);
    std::vector<std::string> ordered;
    for (const auto& job : plan)
      if (merged.entries.count(job.key)) ordered.push_back(job.key);
    for (const auto& key : merged.order)
      if (std::find(ordered.begin(), ordered.end(), key) == ordered.end()) ordered.push_back(key);
    merged.order = ordered;
    run_json["produced"] = produced();
    ResultsDir dir(o.out, false);
    std::ofstream(dir.file("records.jsonl"));  // the merged journal, rewritten below
    for (const auto& key : merged.order) {
      const auto& e = merged.entries.at(key);
      append_journal(dir.file("records.jsonl"), key, e.study, e.seconds, e.rows);
    }
    dir.write_text("run.json", run_json.dump(2) + "\n");
    write_results(program, s, merged, run, dir, log);
    log << program.info.name << ": report written to " << (o.out / "REPORT.md").string() << "\n";
    return 0;
  }

  fs::path out = o.out;
  if (o.shard.active()) {
    out += ".shards";
    out /= std::to_string(o.shard.index) + "-of-" + std::to_string(o.shard.count);
  }
  ResultsDir dir(out, s.resume);
  Journal journal;
  const fs::path journal_file = dir.file("records.jsonl");
  if (s.resume && fs::exists(dir.staging() / "run.json")) {
    const json previous = read_json_file(dir.staging() / "run.json");
    check(previous.value("signature", json()) == s.signature, "--resume: ", dir.staging().string(),
          " was made with other settings (", previous.value("signature", json()).dump(),
          "); run without --resume to start over");
    journal = read_journal(journal_file);
  } else {
    std::ofstream truncate(journal_file);
  }
  dir.write_text("run.json", run_json.dump(2) + "\n");

  std::vector<Job> plan;
  for (auto& job : program.plan(o))
    if (o.runs(job.study)) plan.push_back(std::move(job));
  std::set<std::string> keys;
  for (const auto& job : plan) check(keys.insert(job.key).second, program.info.name, ": job key '", job.key, "' twice in the plan");
  plan = shard_jobs(plan, o.shard);

  Progress progress(log);
  std::vector<const Job*> todo;
  for (const auto& job : plan) {
    if (journal.entries.count(job.key)) {
      run.seconds += journal.entries[job.key].seconds;
      continue;
    }
    todo.push_back(&job);
    progress.plan(job.cost);
  }
  progress.line(program.info.name + ": " + mode_name(o.mode) + " mode, " + std::to_string(todo.size()) + " jobs" +
                (plan.size() > todo.size() ? " (" + std::to_string(plan.size() - todo.size()) + " resumed)" : "") +
                (o.shard.active() ? ", shard " + std::to_string(o.shard.index) + "/" + std::to_string(o.shard.count)
                                  : "") +
                ", " + std::to_string(run.threads) + " threads, device " + device_text(o.device) + ", writing to " +
                o.out.string());
  for (const Job* job : todo) {
    JobContext ctx(o, progress);
    const auto start = std::chrono::steady_clock::now();
    try {
      job->run(ctx);
    } catch (const std::exception& e) {
      fail(job->key, ": ", e.what(), " (finished jobs are kept in ", dir.staging().string(),
           "; rerun with --resume to continue)");
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    append_journal(journal_file, job->key, job->study, seconds, ctx.rows());
    journal.entries[job->key] = {job->study, seconds, ctx.rows()};
    run.seconds += seconds;
    progress.complete(job->cost);
    progress.line(job->key + " done in " + format_duration(seconds));
  }
  journal.order.clear();
  for (const auto& job : plan) journal.order.push_back(job.key);
  write_results(program, s, journal, run, dir, log);
  log << program.info.name << ": done; "
      << (o.shard.active() ? "shard written to " + out.string() + " (merge with --merge when all are done)"
                           : "report at " + (o.out / "REPORT.md").string())
      << "\n";
  return 0;
}

}  // namespace

int run_program(const Program& program, int argc, char** argv, std::ostream& log) {
  const ProgramInfo& info = program.info;
  std::string description = info.name + ": " + info.title + "\n" + info.description;
  CLI::App app{description, info.name};
  bool quick = false, standard = false, full = false, merge = false, report_only = false, resume = false;
  std::string device = "cpu", shard, out = "results/" + info.name, data = "data";
  RunOptions options;
  auto* q = app.add_flag("--quick", quick, "Quick scale (default): " + info.mode_help[0]);
  auto* st = app.add_flag("--standard", standard, "Standard scale on the CPU: " + info.mode_help[1])->excludes(q);
  app.add_flag("--full", full, "Full scale, meant for --device cuda: " + info.mode_help[2])->excludes(q)->excludes(st);
  std::string study_help = "Run only this study (repeatable); every study when absent:";
  for (const auto& s : info.studies) study_help += "\n  " + s.name + ": " + s.question;
  app.add_option("--study", options.studies, study_help);
  app.add_option("--shard", shard, "Run part K of N (K/N, K from 0) into <out>.shards/K-of-N/; then --merge");
  auto* m = app.add_flag("--merge", merge, "Write the report from all shards in <out>.shards/ (same flags, no --shard)");
  app.add_flag("--report-only", report_only, "Rewrite the report, CSVs and plots from <out>/records.jsonl")->excludes(m);
  app.add_flag("--resume", resume, "Continue an interrupted run from <out>.partial/ (same flags)");
  app.add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--seed", options.seed, "Base seed of data, initialisations and sampling")->capture_default_str();
  app.add_option("--out", out, "Results folder")->capture_default_str();
  app.add_option("--data", data, "Data folder filled by experiments/fetch_data.sh")->capture_default_str();
  if (program.add_flags) program.add_flags(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    Settings s;
    options.mode = full ? Mode::Full : standard ? Mode::Standard : Mode::Quick;
    options.device = parse_device(device);
    options.out = out;
    options.data = data;
    if (!shard.empty()) options.shard = parse_shard(shard);
    check(!(options.shard.active() && (merge || report_only)), "--shard cannot be combined with --merge or --report-only");
    std::set<std::string> known;
    for (const auto& st_info : info.studies) known.insert(st_info.name);
    for (const auto& name : options.studies) {
      if (known.count(name)) continue;
      std::string names;
      for (const auto& k : info.studies) names += (names.empty() ? "" : ", ") + k.name;
      fail("--study: unknown study '", name, "' (known: ", names, ")");
    }
    std::sort(options.studies.begin(), options.studies.end());
    options.studies.erase(std::unique(options.studies.begin(), options.studies.end()), options.studies.end());
    if (program.validate) program.validate(options);
    s.options = options;
    s.merge = merge;
    s.report_only = report_only;
    s.resume = resume;
    json own = json::object();
    static const std::set<std::string> not_signature = {"--quick",  "--standard", "--full",   "--study",
                                                        "--shard",  "--merge",    "--report-only", "--resume",
                                                        "--device", "--seed",     "--out",    "--data",
                                                        "--help"};
    for (const CLI::Option* opt : app.get_options()) {
      const std::string name = opt->get_name();
      if (not_signature.count(name) || opt->count() == 0) continue;
      own[name] = opt->results();
    }
    s.signature = {{"mode", mode_name(options.mode)}, {"seed", options.seed},   {"studies", options.studies},
                   {"device", device_text(options.device)},  {"flags", own}};
    s.command_line = info.name;
    for (int i = 1; i < argc; ++i) s.command_line += std::string(" ") + argv[i];
    if (options.mode == Mode::Full && options.device.type != DeviceType::CUDA)
      log << info.name << ": warning: --full is sized for a GPU (--device cuda); on the CPU it will take long\n";
    return execute(program, s, log);
  } catch (const std::exception& e) {
    std::cerr << info.name << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace ember::experiments
