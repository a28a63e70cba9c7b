#pragma once
// Validating device-side indices before a kernel uses them. The CPU backend throws on an
// out-of-range index before writing anything; to do the same, the CUDA backend finds the
// smallest and largest index on the device and reads the two back, the one synchronisation
// these ops make.
#include <cstdint>
#include <optional>

#include "tensor/tensor.h"

namespace ember::cuda {

struct IndexRange {
  int64_t lo, hi;  // lo > hi when there is no index
};

// Over every element of an i64 tensor (any strides) except those equal to `skip`.
IndexRange index_range(const Tensor& index, std::optional<int64_t> skip = std::nullopt);

}  // namespace ember::cuda
