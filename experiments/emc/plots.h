#pragma once
// The PNG plots of a run, drawn from the lab's measurements into the output folder.
#include <string>
#include <vector>

#include "experiments/emc/lab.h"

namespace ember::emc {

struct PlotFile {
  std::string file;  // relative to the output folder
  std::string title;
  bool drawn;  // false: no data (study not run) or gnuplot missing
};

std::vector<PlotFile> write_plots(const Lab& lab);

}  // namespace ember::emc
