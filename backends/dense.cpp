#include "backends/dense.h"

#include "tensor/creation.h"

namespace ember {

Tensor dense(Backend& backend, const Tensor& t) {
  if (!t.defined() || t.is_contiguous()) return t;
  Tensor out = empty(t.shape(), {.dtype = t.dtype(), .device = t.device()});
  backend.copy(t, out);
  return out;
}

Tensor contiguous_scratch(const Tensor& t) {
  return t.is_contiguous() ? t : empty(t.shape(), {.dtype = t.dtype(), .device = t.device()});
}

}  // namespace ember
