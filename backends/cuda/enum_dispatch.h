#pragma once
// Turns a run-time op code into a template argument, so that each op gets its own kernel with
// the op's arithmetic inlined rather than a switch per element.
#include <utility>

#include "tensor/error.h"

namespace ember::cuda {

// fn.template operator()<E(i)>() for the i in [0, Count) that equals e; an e beyond Count (an
// op added to the enum but not here) throws, naming `op`.
template <typename E, int Count, typename Fn>
void dispatch_enum(E e, const char* op, Fn&& fn) {
  const bool found = [&]<int... I>(std::integer_sequence<int, I...>) {
    return ((static_cast<int>(e) == I && (fn.template operator()<static_cast<E>(I)>(), true)) || ...);
  }(std::make_integer_sequence<int, Count>{});
  check(found, op, ": operation ", static_cast<int>(e), " has no CUDA kernel");
}

}  // namespace ember::cuda
