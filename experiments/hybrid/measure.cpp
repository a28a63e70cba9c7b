#include "experiments/hybrid/measure.h"

#include "autograd/flops.h"
#include "tensor/storage.h"

namespace ember::hybrid {

double count_flops(const std::function<void()>& work) {
  FlopCounter counter;
  work();
  return counter.total();
}

double peak_bytes(Device device, const std::function<void()>& work) {
  // The peak counter is global to the device: the bytes in use before the work (the model, its
  // optimizer state, the data) are subtracted so that what remains is the step's own activations
  // and gradients.
  const double before = double(memory_in_use(device));
  reset_peak_memory(device);
  work();
  return double(peak_memory(device)) - before;
}

}  // namespace ember::hybrid
