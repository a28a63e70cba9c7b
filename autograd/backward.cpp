#include "autograd/backward.h"

#include <unordered_map>
#include <unordered_set>

#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/flops.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember {
namespace {

// Nodes reachable from root, ordered so that every node comes before the nodes it feeds
// gradient into (reverse post-order of an iterative depth-first search).
std::vector<Node*> topological_order(Node* root) {
  std::vector<Node*> post;
  std::unordered_set<Node*> seen{root};
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->edges.size()) {
      Node* child = node->edges[next++].node.get();
      if (child && seen.insert(child).second) stack.emplace_back(child, 0);
    } else {
      post.push_back(node);
      stack.pop_back();
    }
  }
  return {post.rbegin(), post.rend()};
}

// A gradient a leaf can own: the same tensor when nothing else can see it, else a copy.
Tensor owned(const Tensor& g) {
  bool sole = g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 && g.is_contiguous() &&
              g.offset() == 0 && static_cast<size_t>(g.numel()) * dtype_size(g.dtype()) == g.storage()->nbytes();
  return sole ? g : clone(g);
}

void accumulate_leaf(TensorImpl& leaf, const Tensor& g) {
  if (!leaf.grad) {
    leaf.grad = owned(g).impl_ptr();
  } else {
    add_(Tensor(leaf.grad), g);
  }
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  check(root.requires_grad(), "backward: the tensor of shape ", root.shape(),
        " does not require grad (no input of the ops that made it requires grad)");
  Tensor seed = grad;
  if (!seed.defined()) {
    check(root.numel() == 1, "backward: the root has shape ", root.shape(),
          "; pass an upstream gradient for a tensor of more than one element");
    seed = ones(root.shape(), {.dtype = root.dtype(), .device = root.device()});
  }
  check(seed.shape() == root.shape(), "backward: upstream gradient of shape ", seed.shape(),
        " does not match the root's shape ", root.shape());
  // As PyTorch: the gradient has the root's dtype and device (a mismatch would surface only later,
  // in optimizer.step(), far from its cause).
  check(seed.dtype() == root.dtype() && seed.device() == root.device(), "backward: upstream gradient is ", seed.dtype(),
        " on ", seed.device(), " but the root is ", root.dtype(), " on ", root.device());
  NoGradGuard no_grad;
  FlopBackwardScope counting_backward;
  // The backward ops follow the dtypes the forward chose; autocast would change them.
  AutocastGuard no_autocast(autocast_dtype(), false);
  if (!root.grad_fn()) {  // backward on a leaf: its gradient is the seed itself
    accumulate_leaf(*root.impl(), seed);
    return;
  }
  std::unordered_map<Node*, Tensor> grads{{root.grad_fn().get(), seed}};
  for (Node* node : topological_order(root.grad_fn().get())) {
    auto it = grads.find(node);
    if (it == grads.end()) continue;  // no gradient flowed here
    Tensor g = std::move(it->second);
    grads.erase(it);
    if (!node->backward)
      fail("backward: the graph through '", node->name, "' was already freed by an earlier backward(); ",
           "pass retain_graph=true to the first backward() to go through it twice");
    std::vector<Tensor> input_grads;
    {
      FlopModuleScope in_module(node->module);
      input_grads = node->backward(g);
    }
    if (!retain_graph) node->backward = nullptr;
    for (size_t i = 0; i < node->edges.size(); ++i) {
      const Edge& e = node->edges[i];
      if (i >= input_grads.size() || !input_grads[i].defined() || (!e.node && !e.leaf)) continue;
      const Tensor& gi = input_grads[i];
      if (gi.shape() != e.shape)
        fail("backward of '", node->name, "': gradient for input ", i, " has shape ", gi.shape(), ", expected ",
             e.shape, " (an engine bug: please report it)");
      if (e.leaf) {
        accumulate_leaf(*e.leaf, gi);
      } else {
        auto [slot, inserted] = grads.try_emplace(e.node.get(), gi);
        if (!inserted) slot->second = add(slot->second, gi);
      }
    }
  }
}

}  // namespace ember
