#pragma once
// A node of the dynamic graph: the backward function of one op application, and edges to
// the nodes (or leaf tensors) that produced its inputs.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace ember {

struct Edge {
  std::shared_ptr<Node> node;         // the input's producer, or
  std::shared_ptr<TensorImpl> leaf;   // the input itself, a leaf that requires grad
  Shape shape;                        // the input's shape: its gradient must match it
};

struct Node {
  // Maps the gradient of the op's output to one gradient per input (undefined = none).
  using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

  std::string name;
  std::vector<Edge> edges;  // one per input, in order
  BackwardFn backward;      // released after a backward pass unless retain_graph
  // The module whose forward recorded it, while a FlopCounter was alive (flops.h): its backward
  // FLOPs are attributed there.
  std::shared_ptr<const std::string> module;

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees the chain of nodes only this one keeps alive iteratively: a graph of a long
  // training loop or a deep network would overflow the stack with recursive destructors.
  ~Node();
};

// A tensor saved for the backward pass, with the version it had when saved: reading it back
// after an in-place change throws instead of silently computing a wrong gradient.
class Saved {
 public:
  Saved() = default;
  Saved(const Tensor& t, const char* op);
  Tensor get() const;

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
  const char* op_ = "";
};

}  // namespace ember
