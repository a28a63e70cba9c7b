#pragma once
// The outputs of a run beside fits.csv: summary.json, the plots and REPORT.md.
#include <string>
#include <vector>

#include "experiments/emc/lab.h"

namespace ember::emc {

struct RunInfo {
  std::vector<std::string> studies;  // the studies run, in order
  std::vector<std::string> notes;    // what was skipped and why
  std::string command_line;
  double seconds = 0;
  int threads = 1;
};

// Writes summary.json, the PNG plots and REPORT.md into lab.options().out.
void write_outputs(const Lab& lab, const RunInfo& info);

}  // namespace ember::emc
