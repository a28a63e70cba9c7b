#pragma once
// Mixed precision: the dtype an op computes in when its operands (or the autocast mode) ask
// for another than the one they carry. Two rules, both as in PyTorch:
//
// - Autocast (AutocastGuard guard(DType::BF16)): matmul, linear, convolution and attention
//   cast their f32 operands to bf16 and return bf16 (the backends accumulate in f32);
//   softmax, norms, losses and sum/mean cast bf16 operands up to f32 and return f32 (cross-
//   entropy reads bf16 logits as they are and computes in f32 inside its kernel). An op
//   with an f64 operand is left alone. Every cast is the differentiable to(), so the gradient
//   of an f32 master weight comes back in f32. Per thread, nestable; backward() runs with
//   autocast off (its ops follow the dtypes the forward chose).
// - Type promotion, with or without autocast: a binary elementwise op of two floating
//   operands of different dtypes computes in the wider one (bf16 < f32 < f64), casting the
//   narrower first; each gradient comes back in its operand's dtype. Other mixes (bool with
//   f32, i64 with f32) still throw the op's dtype error.
#include <array>

#include "tensor/tensor.h"

namespace ember {

// The autocast dtype of this thread's innermost AutocastGuard; only meaningful when enabled.
DType autocast_dtype();
bool autocast_enabled();

// Autocast for its scope: AutocastGuard(DType::BF16) turns it on, AutocastGuard(dtype, false)
// turns it off inside an enabled region (as torch.autocast(enabled=False)); the destructor
// restores the previous state. Leaving the outermost enabled region drops the cast cache.
class AutocastGuard {
 public:
  explicit AutocastGuard(DType dtype, bool enabled = true);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  DType previous_dtype_;
  bool previous_enabled_;
};

namespace autocast {

// The operands of a lower-precision op (matmul, linear, convolution, attention): under
// autocast the f32 ones cast to the autocast dtype unless one of them is f64; others
// (integers, bool, undefined, already narrow) stay. A leaf that requires grad (a weight) is
// cast once per autocast region while it is unchanged, and the cast reused.
void lower(Tensor* operands, size_t count);
// The operands of a precision-sensitive op (softmax, norms, losses, sum): under autocast the
// floating ones narrower than f32 cast up to f32.
void widen(Tensor* operands, size_t count);

template <typename... T>
std::array<Tensor, sizeof...(T)> lower(const T&... operands) {
  std::array<Tensor, sizeof...(T)> out{operands...};
  lower(out.data(), out.size());
  return out;
}

template <typename... T>
std::array<Tensor, sizeof...(T)> widen(const T&... operands) {
  std::array<Tensor, sizeof...(T)> out{operands...};
  widen(out.data(), out.size());
  return out;
}

}  // namespace autocast

// The dtype two floating dtypes promote to: the wider one (bf16 < f32 < f64).
DType promote_types(DType a, DType b);
// a and b of a binary elementwise op, the narrower floating one cast (differentiably) to the
// wider one's dtype; any other pair is returned as it is, for the op's own checks.
std::array<Tensor, 2> promote(const Tensor& a, const Tensor& b);

}  // namespace ember
