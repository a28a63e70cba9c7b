#pragma once
// Attaching an op's backward to its output. Each op is written as
//
//   Tensor out = <forward through the backend>;
//   return record("mul", out, {a, b}, [sa = Saved(a, "mul"), ...](const Tensor& g) {
//     return std::vector<Tensor>{<grad a in ops>, <grad b in ops>};
//   });
//
// record() does nothing when recording is off or no input requires a gradient.
#include <initializer_list>

#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace ember {

bool any_requires_grad(std::initializer_list<Tensor> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);
Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, Node::BackwardFn backward);

}  // namespace ember
