#include "autograd/record.h"

#include "autograd/flops.h"

namespace ember {
namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool enabled) { g_grad_enabled = enabled; }

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending;
  for (Edge& e : edges)
    if (e.node) pending.push_back(std::move(e.node));
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n.use_count() == 1)
      for (Edge& e : n->edges)
        if (e.node) pending.push_back(std::move(e.node));
  }
}

Saved::Saved(const Tensor& t, const char* op) : op_(op) {
  if (t.defined()) {
    tensor_ = detach(t);
    version_ = t.version();
  }
}

Tensor Saved::get() const {
  if (tensor_.defined() && tensor_.version() != version_)
    fail(op_, ": a tensor of shape ", tensor_.shape(), " saved for backward was modified in place (version ",
         tensor_.version(), ", saved at ", version_, "); clone it before changing it");
  return tensor_;
}

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
