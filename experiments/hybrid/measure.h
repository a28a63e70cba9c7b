#pragma once
// The engine's meters, in one place: FLOPs counted by autograd's FlopCounter and peak memory
// from the storage allocator's counters. Where this build lacks a meter the value is NaN and
// the report says the quantity was not measured.
#include <functional>

#include "tensor/device.h"

namespace ember::hybrid {

// FLOPs (forward and backward) of the ops `work` runs on this thread.
double count_flops(const std::function<void()>& work);
// Peak bytes allocated on `device` while `work` runs, above what was in use before it.
double peak_bytes(Device device, const std::function<void()>& work);

}  // namespace ember::hybrid
