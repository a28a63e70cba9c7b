#pragma once
// The emc program on the experiment skeleton (experiments/common/program.h): its description,
// plan (one job per measurement and seed) and report.
#include "experiments/common/program.h"

namespace ember::emc {

experiments::Program emc_program();

}  // namespace ember::emc
