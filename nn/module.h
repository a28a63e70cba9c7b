#pragma once
// Module: the base of every layer and model. It owns named parameters (trainable leaves),
// buffers (non-trainable state such as batch norm's running statistics) and child modules,
// all registered by name; dotted paths ("layer1.0.conv1.weight") name them from the root.
// Modules are held by std::shared_ptr and are not copyable.
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace ember::nn {

class Module;
using ModulePtr = std::shared_ptr<Module>;
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;  // the same type optim/ uses
using NamedModules = std::vector<std::pair<std::string, ModulePtr>>;
using StateDict = std::map<std::string, Tensor>;

class Module {
 public:
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The computation of a single-input module; modules with other inputs declare their own
  // forward and leave this one throwing.
  virtual Tensor forward(const Tensor& x);
  // forward(x), attributed to this module's dotted path by a FlopCounter (autograd/flops.h)
  // when one is alive: call children this way, not through forward(), for per-module counts.
  Tensor operator()(const Tensor& x);

  // What the module is, with its configuration: "Linear(3, 4)". Errors start with it.
  const std::string& describe() const { return description_; }

  // Dotted names in registration order (own entries first, then each child's). A tensor
  // reachable under two names (a shared child) is listed once, under the first.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  const NamedModules& named_children() const { return children_; }
  // Every descendant with its dotted path, parents before children (this module excluded).
  NamedModules named_modules() const;
  int64_t num_parameters() const;  // elements, not tensors

  // Drops every parameter's gradient (set_to_none) or zeroes it in place.
  void zero_grad(bool set_to_none = true);

  // Training mode, for this module and all its descendants (dropout, batch norm read it).
  Module& train(bool on = true);
  Module& eval() { return train(false); }
  bool is_training() const { return training_; }

  // Moves / converts parameters, buffers and gradients in place: every Tensor handle already
  // taken (by an optimizer, by a layer's member) stays valid and sees the new data. to(DType)
  // converts floating tensors only (integer buffers keep their dtype). Optimizer state that
  // already exists (momentum buffers) is not moved: build or load the optimizer after to().
  Module& to(Device device);
  Module& to(DType dtype);

  // Parameters and buffers by dotted name; the tensors are the live ones, not copies.
  StateDict state_dict() const;
  // Copies `state` into the parameters and buffers (converting device, and dtype between
  // floating dtypes). A change of kind (i64 or bool into a floating tensor, or back) is a
  // problem unless allow_dtype_change: integer data landing in weights is almost always a
  // mistake (a wrong file). Every key, shape and dtype is checked first; on any problem it throws one ember::Error listing them all
  // and changes nothing. With strict, missing and unexpected keys are problems too.
  void load_state_dict(const StateDict& state, bool strict = true, bool allow_dtype_change = false);
  // The checks of load_state_dict alone: throws as it would, changes nothing.
  void check_state_dict(const StateDict& state, bool strict = true, bool allow_dtype_change = false) const;

 protected:
  explicit Module(std::string description) : description_(std::move(description)) {}

  // Registers `t` as a trainable parameter (it becomes a leaf that requires grad).
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }

 private:
  void check_new_name(const std::string& name, const char* what) const;
  void add_child(const std::string& name, ModulePtr child);
  // Calls fn(dotted name, tensor) for the parameters (or buffers) of this module and its descendants.
  template <typename Fn>
  void visit(bool buffers, const std::string& prefix, Fn&& fn) const;

  std::string description_;
  bool training_ = true;
  NamedTensors params_;
  NamedTensors buffers_;
  NamedModules children_;
};

// The module tree, one line per module: "(name): description", children indented.
std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace ember::nn
