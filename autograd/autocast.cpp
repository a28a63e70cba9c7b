#include "autograd/autocast.h"

#include <memory>
#include <unordered_map>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/shape_ops.h"

namespace ember {
namespace {

// A weight's cast, valid while the weight lives, is unchanged (an optimizer step bumps its
// version) and the cast's graph has not been freed by a backward pass.
struct CachedCast {
  std::weak_ptr<TensorImpl> source;
  uint64_t version = 0;
  Tensor cast;

  bool valid_for(const Tensor& x, DType dtype) const {
    return !source.expired() && version == x.version() && cast.dtype() == dtype && cast.grad_fn() &&
           cast.grad_fn()->backward;
  }
};

struct AutocastState {
  bool enabled = false;
  DType dtype = DType::BF16;
  std::unordered_map<const TensorImpl*, CachedCast> cache;
};

thread_local AutocastState g_state;

// x cast to dtype; the casts of weights are kept for the rest of the autocast region, as
// PyTorch does, so a weight used by several ops (or several micro-batches) is cast once.
Tensor cast(const Tensor& x, DType dtype) {
  if (!(grad_enabled() && x.is_leaf() && x.requires_grad())) return to(x, dtype);
  CachedCast& entry = g_state.cache[x.impl()];
  if (!entry.valid_for(x, dtype)) entry = {x.impl_ptr(), x.version(), to(x, dtype)};
  return entry.cast;
}

int rank(DType t) { return t == DType::BF16 ? 0 : t == DType::F32 ? 1 : 2; }

}  // namespace

DType autocast_dtype() { return g_state.dtype; }
bool autocast_enabled() { return g_state.enabled; }

AutocastGuard::AutocastGuard(DType dtype, bool enabled)
    : previous_dtype_(g_state.dtype), previous_enabled_(g_state.enabled) {
  check(dtype == DType::BF16 || dtype == DType::F32, "AutocastGuard: the autocast dtype must be bf16 (or f32), got ",
        dtype);
  g_state.dtype = dtype;
  g_state.enabled = enabled;
}

AutocastGuard::~AutocastGuard() {
  if (!previous_enabled_ && g_state.enabled) g_state.cache.clear();
  g_state.dtype = previous_dtype_;
  g_state.enabled = previous_enabled_;
}

namespace autocast {

void lower(Tensor* operands, size_t count) {
  if (!g_state.enabled || g_state.dtype == DType::F32) return;
  for (size_t i = 0; i < count; ++i)
    if (operands[i].defined() && operands[i].dtype() == DType::F64) return;
  for (size_t i = 0; i < count; ++i)
    if (operands[i].defined() && operands[i].dtype() == DType::F32) operands[i] = cast(operands[i], g_state.dtype);
}

void widen(Tensor* operands, size_t count) {
  if (!g_state.enabled) return;
  for (size_t i = 0; i < count; ++i)
    if (operands[i].defined() && operands[i].dtype() == DType::BF16) operands[i] = to(operands[i], DType::F32);
}

}  // namespace autocast

DType promote_types(DType a, DType b) {
  check(is_floating(a) && is_floating(b), "promote_types: expected floating dtypes, got ", a, " and ", b);
  return rank(a) >= rank(b) ? a : b;
}

std::array<Tensor, 2> promote(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || a.dtype() == b.dtype() || !is_floating(a.dtype()) || !is_floating(b.dtype()))
    return {a, b};
  const DType wider = promote_types(a.dtype(), b.dtype());
  return {to(a, wider), to(b, wider)};
}

}  // namespace ember
