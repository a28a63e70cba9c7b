#pragma once
// REPORT.md's claims, sections and plots from the records of a run.
#include "experiments/common/program.h"

namespace ember::emc {

void fill_report(const experiments::RunOptions& options, const experiments::Records& records,
                 experiments::Report& report);

}  // namespace ember::emc
