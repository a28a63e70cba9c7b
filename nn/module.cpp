#include "nn/module.h"

#include <ostream>
#include <sstream>
#include <unordered_set>

#include "autograd/elementwise.h"
#include "autograd/flops.h"
#include "autograd/grad_mode.h"
#include "autograd/shape_ops.h"

namespace ember::nn {
namespace {

std::string join(const std::string& prefix, const std::string& name) { return prefix.empty() ? name : prefix + "." + name; }

// Points t's handle at converted data, so every copy of the handle sees it.
void replace_data(const Tensor& t, const Tensor& converted) {
  TensorImpl& impl = *t.impl();
  impl.storage = converted.storage();
  impl.strides = converted.strides();
  impl.offset = converted.offset();
  impl.dtype = converted.dtype();
}

// Applies `convert` to a parameter or buffer and to its gradient, keeping the handles.
template <typename Convert>
void convert_in_place(const Tensor& t, Convert&& convert) {
  NoGradGuard no_grad;
  replace_data(t, convert(detach(t)));
  if (Tensor g = t.grad(); g.defined()) t.set_grad(convert(g));
}

void print_tree(std::ostream& os, const Module& m, int depth) {
  os << m.describe();
  if (m.named_children().empty()) return;
  os << " {\n";
  for (const auto& [name, child] : m.named_children()) {
    os << std::string(static_cast<size_t>(2 * (depth + 1)), ' ') << "(" << name << "): ";
    print_tree(os, *child, depth + 1);
    os << "\n";
  }
  os << std::string(static_cast<size_t>(2 * depth), ' ') << "}";
}

// The modules whose operator() is running on this thread, innermost last, while a FlopCounter
// is alive: a module's path is its parent's path and its name among the parent's children.
thread_local std::vector<const Module*> t_calls;

// This module's path: its name under the calling module, or (called by none, or by one it is
// no child of) the outermost "" or the caller's path and its own type, "Linear".
std::string call_path(const Module& m) {
  if (t_calls.empty()) return "";
  const FlopModulePath parent = current_flop_module();
  const std::string prefix = parent ? *parent : "";
  for (const auto& [name, child] : t_calls.back()->named_children())
    if (child.get() == &m) return join(prefix, name);
  return join(prefix, m.describe().substr(0, m.describe().find('(')));
}

class ModuleCall {
 public:
  explicit ModuleCall(const Module& m) : scope_(std::make_shared<const std::string>(call_path(m))) {
    t_calls.push_back(&m);
  }
  ~ModuleCall() { t_calls.pop_back(); }
  ModuleCall(const ModuleCall&) = delete;
  ModuleCall& operator=(const ModuleCall&) = delete;

 private:
  FlopModuleScope scope_;
};

}  // namespace

Tensor Module::operator()(const Tensor& x) {
  if (!counting_flops()) return forward(x);
  ModuleCall call(*this);
  return forward(x);
}

Tensor Module::forward(const Tensor&) {
  fail(describe(), ": forward(Tensor) is not defined for this module; call its own forward");
}

template <typename Fn>
void Module::visit(bool buffers, const std::string& prefix, Fn&& fn) const {
  for (const auto& [name, t] : buffers ? buffers_ : params_) fn(join(prefix, name), t);
  for (const auto& [name, child] : children_) child->visit(buffers, join(prefix, name), fn);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  std::unordered_set<const TensorImpl*> seen;
  visit(false, "", [&](const std::string& name, const Tensor& t) {
    if (seen.insert(t.impl()).second) out.emplace_back(name, t);
  });
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  visit(true, "", [&](const std::string& name, const Tensor& t) { out.emplace_back(name, t); });
  return out;
}

NamedModules Module::named_modules() const {
  NamedModules out;
  for (const auto& [name, child] : children_) {
    out.emplace_back(name, child);
    for (auto& [sub, m] : child->named_modules()) out.emplace_back(join(name, sub), m);
  }
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const Tensor& p : parameters()) {
    if (set_to_none)
      p.set_grad(Tensor());
    else if (p.grad().defined())
      zero_(p.grad());
  }
}

Module& Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
  return *this;
}

Module& Module::to(Device device) {
  auto convert = [device](const Tensor& t) { return ember::to(t, device); };
  visit(false, "", [&](const std::string&, const Tensor& t) { convert_in_place(t, convert); });
  visit(true, "", [&](const std::string&, const Tensor& t) { convert_in_place(t, convert); });
  return *this;
}

Module& Module::to(DType dtype) {
  check(is_floating(dtype), describe(), ": to(", dtype, "): modules convert to floating dtypes only");
  auto convert = [dtype](const Tensor& t) { return is_floating(t.dtype()) ? ember::to(t, dtype) : t; };
  visit(false, "", [&](const std::string&, const Tensor& t) { convert_in_place(t, convert); });
  visit(true, "", [&](const std::string&, const Tensor& t) { convert_in_place(t, convert); });
  return *this;
}

StateDict Module::state_dict() const {
  StateDict out;
  for (bool buffers : {false, true})
    visit(buffers, "", [&](const std::string& name, const Tensor& t) { out.emplace(name, t); });
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict, bool allow_dtype_change) {
  check_state_dict(state, strict, allow_dtype_change);
  const StateDict own = state_dict();
  NoGradGuard no_grad;
  for (const auto& [name, t] : own)
    if (auto it = state.find(name); it != state.end()) copy_(t, ember::to(it->second, t.device()));
}

void Module::check_state_dict(const StateDict& state, bool strict, bool allow_dtype_change) const {
  const StateDict own = state_dict();
  std::vector<std::string> problems;
  for (const auto& [name, t] : own) {
    auto it = state.find(name);
    if (it == state.end()) {
      if (strict) problems.push_back("missing key '" + name + "'");
      continue;
    }
    std::ostringstream os;
    if (!it->second.defined())
      os << "'" << name << "' is an undefined tensor";
    else if (it->second.shape() != t.shape())
      os << "'" << name << "' has shape " << it->second.shape() << " in the state dict but " << t.shape() << " in the model";
    else if (const DType from = it->second.dtype(), into = t.dtype();
             from != into && !(is_floating(from) && is_floating(into)) && !allow_dtype_change)
      os << "'" << name << "' is " << from << " in the state dict but " << into
         << " in the model (a conversion between these kinds is refused unless allow_dtype_change)";
    if (!os.str().empty()) problems.push_back(os.str());
  }
  if (strict)
    for (const auto& [name, t] : state)
      if (!own.contains(name)) problems.push_back("unexpected key '" + name + "'");
  if (!problems.empty()) {
    std::ostringstream os;
    for (size_t i = 0; i < problems.size(); ++i) os << (i ? "; " : "") << problems[i];
    fail("load_state_dict: ", describe(), ": ", os.str(), " (nothing was loaded)");
  }
}

void Module::check_new_name(const std::string& name, const char* what) const {
  check(!name.empty() && name.find('.') == std::string::npos, describe(), ": ", what, " name '", name,
        "' must be non-empty and contain no '.'");
  auto taken = [&name](const auto& entries) {
    for (const auto& entry : entries)
      if (entry.first == name) return true;
    return false;
  };
  check(!taken(params_) && !taken(buffers_) && !taken(children_), describe(), ": ", what, " name '", name,
        "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name, "parameter");
  check(t.defined() && is_floating(t.dtype()) && t.is_leaf(), describe(), ": parameter '", name,
        "' must be a defined floating leaf tensor");
  t.set_requires_grad(true);
  return params_.emplace_back(name, std::move(t)).second;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name, "buffer");
  check(t.defined(), describe(), ": buffer '", name, "' is an undefined tensor");
  return buffers_.emplace_back(name, std::move(t)).second;
}

void Module::add_child(const std::string& name, ModulePtr child) {
  check_new_name(name, "module");
  check(child != nullptr, describe(), ": module '", name, "' is null");
  children_.emplace_back(name, std::move(child));
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
  print_tree(os, m, 0);
  return os;
}

}  // namespace ember::nn
