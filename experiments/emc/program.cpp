#include "experiments/emc/program.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <ostream>

#include "experiments/common/markdown.h"
#include "experiments/emc/report.h"
#include "experiments/emc/studies.h"

namespace ember::emc {

void run_program(const Options& options, const Scale& scale, std::ostream& log, const std::string& command_line) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<const Study*> selected;
  if (options.studies.empty()) {
    for (const auto& s : studies()) selected.push_back(&s);
  } else {
    for (const auto& name : options.studies) selected.push_back(&study(name));
  }
  Lab lab(options, scale, log);
  RunInfo info{
      .studies = {}, .notes = {}, .command_line = command_line, .seconds = 0, .threads = omp_get_max_threads()};

  // Requests on a missing tabular set are skipped and reported, so a machine without
  // python3-sklearn still runs everything else; missing MNIST stops the run at its first use.
  std::vector<std::pair<const Study*, std::vector<Request>>> work;
  for (const Study* s : selected) {
    std::vector<Request> runnable;
    for (const auto& r : s->requests(scale)) {
      if (r.data.dataset == "mnist" || lab.data().available(r.data.dataset)) {
        runnable.push_back(r);
        continue;
      }
      const std::string note = s->name + ": " + r.model.name() + " on " + r.data.name() + " skipped (" +
                               lab.data().source(r.data.dataset).string() + " not found)";
      if (std::find(info.notes.begin(), info.notes.end(), note) == info.notes.end()) info.notes.push_back(note);
    }
    lab.plan(runnable);
    work.push_back({s, runnable});
    info.studies.push_back(s->name);
  }
  lab.progress().line("emc: " + scale.name + " scale, " + std::to_string(info.threads) + " threads, studies: " +
                      [&] {
                        std::string names;
                        for (const auto& n : info.studies) names += (names.empty() ? "" : ", ") + n;
                        return names;
                      }() +
                      "; writing to " + options.out.string());
  for (const auto& note : info.notes) lab.progress().line("warning: " + note);
  for (const auto& [s, requests] : work) {
    lab.progress().line("== study " + s->name + ": " + s->question);
    for (const auto& r : requests) lab.run(s->name, r);
  }
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_outputs(lab, info);
  lab.progress().line("emc: done in " + experiments::format_duration(info.seconds) + ", " + std::to_string(lab.fits()) +
                      " training runs; report at " + (options.out / "REPORT.md").string());
}

}  // namespace ember::emc
