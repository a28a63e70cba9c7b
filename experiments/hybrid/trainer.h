#pragma once
// One training run of one model on one task, with its measurements: parameters, training FLOPs
// (one step counted, times the steps), peak memory of a training step, training wall time
// (evaluations excluded), the wall time to a target validation error, and the final validation
// loss and error.
#include <cstdint>

#include "experiments/hybrid/tasks.h"
#include "nn/module.h"

namespace ember::hybrid {

struct TrainSettings {
  int64_t steps = 300;
  int64_t batch = 64;
  double lr = 2e-3;             // AdamW's peak, 5% linear warm-up, cosine decay to 10%
  int64_t evaluations = 4;      // validation passes, evenly spaced, the last at the end
  int64_t max_validation = 2000;  // samples of the validation set used
  double target_error = 0.1;    // for seconds_to_target
};

struct RunResult {
  int64_t params = 0;
  // Counted by ember::FlopCounter: forward + backward of the training steps; the fused AdamW
  // steps are not ops and are not counted (about 10 FLOPs a parameter a step).
  double flops_per_step = 0, train_flops = 0;
  // Training memory: the parameters plus the peak of the first training step above what was in
  // use before it (gradients, AdamW's moments, activations); the data set is excluded.
  double peak_bytes = 0;
  double train_seconds = 0;                    // all steps, evaluations excluded
  double seconds_to_target = -1;               // -1: the target error was never reached
  double val_loss = 0, val_error = 0;
  bool still_improving = false;  // validation loss fell by > 2% over the last quarter of the steps
};

// Trains `model` (freshly built) with softmax cross-entropy; `seed` draws the batches.
RunResult train_run(nn::Module& model, const TaskData& data, const TrainSettings& settings, uint64_t seed);

}  // namespace ember::hybrid
