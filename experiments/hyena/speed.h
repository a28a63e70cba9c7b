#pragma once
// The speed study: one Hyena operator (nn::HyenaOperator) against the engine's fused attention
// (nn::MultiHeadAttention, causal) and standard attention (StandardAttention) at the same width,
// forward and forward + backward, over doubling lengths. Each replicate times the three
// operators back to back (paired timings); a configuration whose estimated memory exceeds the
// cap is recorded as "too_large" instead of run.
#include <string>
#include <vector>

#include "experiments/common/program.h"

namespace ember::hyena {

struct SpeedScale {
  int64_t d_model = 128, head_dim = 64, order = 2, batch = 1;
  std::vector<int64_t> lengths;
  int repeats = 5;        // timed replicates per length (after one warm-up)
  double byte_cap = 2e9;  // estimated bytes above which a configuration is not run
};

inline const std::vector<std::string>& speed_operators() {
  static const std::vector<std::string> ops = {"hyena", "fused_attention", "standard_attention"};
  return ops;
}

// Estimated peak bytes of forward + backward of `op` at this length (f32), for the cap.
double estimated_bytes(const std::string& op, const SpeedScale& scale, int64_t length);

// The jobs: one per length.
std::vector<experiments::Job> speed_jobs(const experiments::RunOptions& options, const SpeedScale& scale);

// Claims 1a-1d, the timing table, the crossovers and the plot.
void speed_report(const std::vector<experiments::Record>& rows, const SpeedScale& scale, experiments::Report& report);

}  // namespace ember::hyena
