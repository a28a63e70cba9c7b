#pragma once
// The engine's meters, in one place: FLOPs counted by autograd's FlopCounter (autograd/flops.h)
// and peak memory from the storage allocator's counters (tensor/storage.h).
#include <functional>

#include "tensor/device.h"

namespace ember::hybrid {

// FLOPs (forward and backward) of the ops `work` runs on this thread. Fused optimizer steps
// are not ops and are not counted.
double count_flops(const std::function<void()>& work);
// Peak bytes allocated on `device` while `work` runs, above what was in use before it.
// The device's peak counter is reset: not for use while another thread allocates on it.
double peak_bytes(Device device, const std::function<void()>& work);

}  // namespace ember::hybrid
