#pragma once
// hybrid: do CNN-Transformer hybrids scale better than pure Transformers? The program on the
// experiment skeleton (experiments/common/program.h): its studies, their scale per mode, the
// plan of jobs and the report.
#include <vector>

#include "experiments/common/program.h"
#include "experiments/hybrid/tasks.h"
#include "experiments/hybrid/trainer.h"

namespace ember::hybrid {

// What a mode runs.
struct Scale {
  std::vector<int> sizes;  // size indices of the scaling study
  int seeds = 5;
  TrainSettings image, text, video;
  bool text_training = true;  // the text runs of `scaling` and `balance` (the sweep always has text)
  TaskSizes task;
  int systems_size = 1, balance_size = 2;
  std::vector<int> named_sizes;  // the named image hybrids (nn's size ladder) on small MNIST
  TrainSettings named;
  std::vector<int64_t> image_sides, text_lengths;  // the sequence-length sweep
  int sweep_size = 1, sweep_batch = 4, repeats = 5;
};
Scale scale_of(experiments::Mode mode);

experiments::Program program();

// The report: claims, plots, tables (report.cpp).
void write_report(const experiments::RunOptions& options, const experiments::Records& records,
                  experiments::Report& report);
// The tables and plots of the report (plots.cpp).
void write_tables_and_plots(const experiments::RunOptions& options, const experiments::Records& records,
                            experiments::Report& report);

}  // namespace ember::hybrid
