#include "autograd/node.h"

#include "tensor/error.h"

namespace ember {

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

}  // namespace ember
