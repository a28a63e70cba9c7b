#pragma once
// The language-modelling study: byte-level GPT and Hyena LMs of several sizes trained on the
// KJV Bible (experiments/common/text.h, its fixed by-book split), counting the training FLOPs
// with the engine's FlopCounter. Each run records the validation loss, the FLOPs and the wall
// time at evenly spaced points; the report asks how many FLOPs each family needs to reach the
// same validation loss (the paper: 355M models on The Pile, Hyena 3.93e19 vs GPT 4.77e19 FLOPs,
// 18% fewer).
#include <string>
#include <vector>

#include "experiments/common/program.h"
#include "experiments/hyena/train.h"

namespace ember::hyena {

struct LMSize {
  std::string name;
  int64_t d_model = 64, n_layers = 2;
};

struct LMScale {
  std::vector<LMSize> sizes;
  std::vector<std::string> families = {"gpt", "hyena"};
  int seeds = 5;
  int64_t context = 128;
  int64_t evals = 8;               // validation points per run
  int64_t validation_windows = 64; // evenly spaced windows of the validation split per point
  TrainOptions train;
};

std::vector<experiments::Job> lm_jobs(const experiments::RunOptions& options, const LMScale& scale);

// The frontier analysis. For one seed and family, the points (FLOPs, validation loss) of all
// sizes pooled, the lowest loss reached with at most F FLOPs (a running minimum over F); the
// FLOPs at which it first reaches `target`, interpolated linearly in log FLOPs between the
// neighbouring points; NaN if it never does.
double flops_to_reach(std::vector<std::pair<double, double>> points, double target);

// Claim 3, the table and the plots.
void lm_report(const std::vector<experiments::Record>& rows, const LMScale& scale, experiments::Report& report);

}  // namespace ember::hyena
