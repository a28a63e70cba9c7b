#pragma once
// The claims of "Just How Flexible are Neural Networks in Practice?" (Shwartz-Ziv et al.,
// arXiv 2406.11463) that the studies test, each decided by the one verdict rule from paired
// per-seed measurements.
#include <string>
#include <vector>

#include "experiments/common/program.h"
#include "experiments/emc/analysis.h"
#include "experiments/emc/config.h"

namespace ember::emc {

// Adds a claim row for every claim whose study ran; returns the studies whose claims were
// not decided because they did not run.
std::vector<std::string> add_claims(const Scale& scale, const Results& results, const std::vector<std::string>& ran,
                                    experiments::Report& report);

}  // namespace ember::emc
