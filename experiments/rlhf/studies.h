#pragma once
// The program: its description, its three studies and their jobs, and its report.
//   scaling:    preference-model accuracy and adversarial robustness against size (claims 1, 2)
//   efficiency: accuracy against the number of training pairs, per family (claim 3)
//   rl:         PPO and RLOO fine-tuning of both policy families: proxy reward, gold reward and
//               KL per step (claims 4, 5)
#include "experiments/common/program.h"

namespace ember::rlhf {

experiments::Program rlhf_program();

// The report from the records (report.cpp).
void write_report(const experiments::RunOptions& options, const experiments::Records& records,
                  experiments::Report& report);

}  // namespace ember::rlhf
