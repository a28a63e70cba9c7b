#pragma once
// The hyena program: is Hyena a subquadratic drop-in for attention? Its studies, their scale
// in each mode, and the Program the skeleton runs.
#include "experiments/common/program.h"
#include "experiments/hyena/lm.h"
#include "experiments/hyena/recall.h"
#include "experiments/hyena/speed.h"

namespace ember::hyena {

struct Scale {
  SpeedScale speed;
  RecallScale recall;
  LMScale lm;
};

// The scale of a mode on a device (--full assumes a GPU).
Scale scale_for(const experiments::RunOptions& options);

experiments::Program hyena_program();

}  // namespace ember::hyena
