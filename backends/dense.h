#pragma once
// Contiguous stand-ins for kernels that read or write only dense memory, shared by the backends:
// an input is copied once (`dense`), an output is computed into scratch and copied back.
#include "backends/backend.h"
#include "tensor/tensor.h"

namespace ember {

// t itself when contiguous (or undefined), else a contiguous copy made by `backend`.
Tensor dense(Backend& backend, const Tensor& t);

// t itself when contiguous, else a new contiguous tensor of its shape, dtype and device: write
// into it, then copy it into t when it is not t.
Tensor contiguous_scratch(const Tensor& t);

}  // namespace ember
