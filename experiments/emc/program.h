#pragma once
// The whole program behind the command line: run the selected studies, then write the outputs.
#include <iosfwd>
#include <string>

#include "experiments/emc/config.h"

namespace ember::emc {

// Runs options.studies (all when empty) at `scale`, logging progress to `log`, and writes
// fits.csv, summary.json, the plots and REPORT.md into options.out.
void run_program(const Options& options, const Scale& scale, std::ostream& log, const std::string& command_line);

}  // namespace ember::emc
