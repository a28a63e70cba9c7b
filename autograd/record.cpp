#include "autograd/record.h"

#include "autograd/flops.h"

namespace ember {

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool any_requires_grad(std::initializer_list<Tensor> inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, Node::BackwardFn backward) {
  if (!grad_enabled() || !any_requires_grad(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->backward = std::move(backward);
  if (counting_flops()) node->module = current_flop_module();
  node->edges.reserve(inputs.size());
  for (const Tensor& in : inputs) {
    Edge e;
    if (in.defined() && in.requires_grad()) {
      if (in.grad_fn()) e.node = in.grad_fn();
      else e.leaf = in.impl_ptr();
      e.shape = in.shape();
    }
    node->edges.push_back(std::move(e));
  }
  out.impl()->requires_grad = true;
  out.set_grad_fn(std::move(node));
  return out;
}

}  // namespace ember
