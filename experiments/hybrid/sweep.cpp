#include "experiments/hybrid/sweep.h"

#include <chrono>

#include "autograd/ops.h"
#include "experiments/hybrid/measure.h"
#include "tensor/creation.h"
#include "tensor/random.h"

namespace ember::hybrid {

StepCost measure_step(const std::string& family, int size, const InputSpec& in, int64_t batch, int repeats,
                      uint64_t seed) {
  check(batch >= 1 && repeats >= 1, "measure_step: needs batch >= 1 and repeats >= 1");
  manual_seed(seed);
  const nn::ModulePtr model = build_model(family, size, in);
  const Tensor x = in.kind == "text"    ? randint(0, 256, {batch, in.size})
                   : in.kind == "video" ? randn({batch, in.frames, 1, in.size, in.size})
                                        : randn({batch, 1, in.size, in.size});
  const Tensor y = randint(0, in.num_classes, {batch});
  auto step = [&] {
    model->zero_grad();
    backward(cross_entropy((*model)(x), y));
  };
  StepCost c;
  c.params = parameter_count(*model);
  step();  // warm-up: first-touch allocations, oneDNN primitive creation
  c.peak_bytes = peak_bytes(x.device(), [&] { c.flops = count_flops(step); });
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    step();
    c.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return c;
}

}  // namespace ember::hybrid
