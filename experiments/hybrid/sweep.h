#pragma once
// The cost of one training step (forward and backward) of a family at one input length: the
// sequence-length sweep of claim 2. Inputs are random (the cost does not depend on the values).
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/hybrid/families.h"

namespace ember::hybrid {

struct StepCost {
  int64_t params = 0;
  double flops = 0;                 // counted, forward + backward
  double peak_bytes = 0;            // above what was in use before the step
  std::vector<double> seconds;      // one timed step per repeat, after one untimed warm-up step
};

StepCost measure_step(const std::string& family, int size, const InputSpec& input, int64_t batch, int repeats,
                      uint64_t seed);

}  // namespace ember::hybrid
