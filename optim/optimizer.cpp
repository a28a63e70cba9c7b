#include "optim/optimizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "autograd/elementwise.h"
#include "autograd/grad_mode.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember {
namespace {

void check_parameter(const char* op, size_t index, const Tensor& p) {
  check(p.defined(), op, ": parameter ", index, " is undefined");
  check(is_floating(p.dtype()), op, ": parameter ", index, " of shape ", p.shape(), " has dtype ", p.dtype(),
        "; only floating tensors can be optimized");
  check(p.is_leaf(), op, ": parameter ", index, " of shape ", p.shape(), " is not a leaf (it has a grad_fn)");
  // The fused kernels update the storage in place, element by element.
  check(p.is_contiguous(), op, ": parameter ", index, " of shape ", p.shape(), " is not contiguous");
}

Tensor i64_scalar(int64_t value) { return scalar(static_cast<double>(value), {.dtype = DType::I64}); }

}  // namespace

void check_hyperparameter(const char* op, const char* what, double value, double lo, double hi) {
  if (std::isinf(hi))
    check(value >= lo, op, ": ", what, " must be >= ", lo, ", got ", value);
  else
    check(value >= lo && value <= hi, op, ": ", what, " must be in [", lo, ", ", hi, "], got ", value);
}

Optimizer::Optimizer(const char* name, std::vector<ParamGroup> groups, double lr, double weight_decay)
    : name_(name), groups_(std::move(groups)) {
  check_hyperparameter(name, "lr", lr, 0);
  check_hyperparameter(name, "weight_decay", weight_decay, 0);
  std::set<const TensorImpl*> seen;
  for (ParamGroup& group : groups_) {
    group.lr = group.lr.value_or(lr);
    group.weight_decay = group.weight_decay.value_or(weight_decay);
    check_hyperparameter(name, "lr", *group.lr, 0);
    check_hyperparameter(name, "weight_decay", *group.weight_decay, 0);
    for (const Tensor& p : group.params) {
      check_parameter(name, state_.size(), p);
      check(seen.insert(p.impl()).second, name, ": parameter ", state_.size(), " of shape ", p.shape(),
            " appears more than once");
      state_.emplace_back();
    }
  }
  check(!state_.empty(), name, ": got an empty parameter list");
}

double Optimizer::current_lr(const ParamGroup& group) const {
  return *group.lr * (schedule_ ? schedule_(step_count) : 1.0);
}

void Optimizer::step() {
  NoGradGuard no_grad;
  size_t index = 0;
  for (const ParamGroup& group : groups_) {
    const double lr = current_lr(group);
    for (const Tensor& p : group.params) {
      ParamState& state = state_[index];
      Tensor grad = p.grad();
      if (grad.defined()) {
        check(grad.shape() == p.shape() && grad.dtype() == p.dtype() && grad.device() == p.device(), name_,
              ": parameter ", index, " is ", p.dtype(), " ", p.shape(), " on ", p.device(), " but its gradient is ",
              grad.dtype(), " ", grad.shape(), " on ", grad.device());
        ++state.steps;
        update(p, contiguous(grad), state, lr, *group.weight_decay);
        p.bump_version();
      }
      ++index;
    }
  }
  ++step_count;
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& p : group.params) {
      if (set_to_none)
        p.set_grad(Tensor());
      else if (p.grad().defined())
        zero_(p.grad());
    }
  }
}

const Tensor& Optimizer::state_zeros(ParamState& state, const std::string& key, const Tensor& like,
                                     const Shape& shape) {
  Tensor& t = state.tensors[key];
  if (!t.defined()) t = zeros(shape, {.dtype = like.dtype(), .device = like.device()});
  return t;
}

void Optimizer::momentum_step(const Tensor& param, const Tensor& direction, ParamState& state, SgdStep h) {
  Tensor buffer;
  if (h.momentum != 0) {
    h.first_step = !state.tensors.contains("momentum_buffer");
    buffer = state_zeros(state, "momentum_buffer", param);
  }
  backend_for(param.device()).sgd_step(param, direction, buffer, h);
}

NamedTensors Optimizer::state_tensors() const {
  NamedTensors named{{"step_count", i64_scalar(step_count)}};
  for (size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].steps == 0 && state_[i].tensors.empty()) continue;
    const std::string prefix = std::to_string(i) + ".";
    named.emplace_back(prefix + "step", i64_scalar(state_[i].steps));
    for (const auto& [key, t] : state_[i].tensors) named.emplace_back(prefix + key, t);
  }
  return named;
}

namespace {

// The value of a 0-d i64 tensor (read as an integer: item() would round it through a double).
int64_t i64_value(const Tensor& t) { return to(t, Device::cpu()).data<int64_t>()[0]; }

bool is_count(const Tensor& t) { return t.defined() && t.dtype() == DType::I64 && t.dim() == 0; }

// "<index>.<key>" split, or nothing.
std::optional<std::pair<size_t, std::string>> split_state_name(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) return std::nullopt;
  size_t index = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + dot, index);
  if (error != std::errc() || end != name.data() + dot) return std::nullopt;
  return std::make_pair(index, name.substr(dot + 1));
}

}  // namespace

void Optimizer::check_param_state(const std::string& prefix, const Tensor& param,
                                  const std::map<std::string, Tensor>& state) const {
  for (const auto& [key, t] : state)
    check(is_floating(t.dtype()) && t.dtype() == param.dtype(), name_, ": state '", prefix, key, "' is ", t.dtype(),
          " but parameter ", prefix.substr(0, prefix.size() - 1), " is ", param.dtype());
}

void Optimizer::expect_state(const std::string& prefix, const Tensor& param, const std::map<std::string, Tensor>& state,
                             const std::vector<std::string>& keys) const {
  for (const std::string& key : keys) {
    const auto it = state.find(key);
    check(it != state.end(), name_, ": state '", prefix, key, "' is missing (the state of parameter ",
          prefix.substr(0, prefix.size() - 1), " is incomplete)");
    const Tensor& t = it->second;
    check(t.dtype() == param.dtype() && t.shape() == param.shape(), name_, ": state '", prefix, key, "' is ",
          t.dtype(), " ", t.shape(), " but parameter ", prefix.substr(0, prefix.size() - 1), " is ", param.dtype(), " ",
          param.shape());
  }
  for (const auto& [key, t] : state)
    check(std::find(keys.begin(), keys.end(), key) != keys.end(), name_, ": unexpected state '", prefix, key, "'");
}

void Optimizer::check_state_tensors(const NamedTensors& named) const {
  std::vector<const Tensor*> params;
  for (const ParamGroup& group : groups_)
    for (const Tensor& p : group.params) params.push_back(&p);
  const char* op = name_;
  std::optional<int64_t> count;
  std::vector<std::optional<int64_t>> steps(params.size());
  std::vector<std::map<std::string, Tensor>> tensors(params.size());
  for (const auto& [name, t] : named) {
    check(t.defined(), op, ": state '", name, "' is undefined");
    if (name == "step_count") {
      check(is_count(t), op, ": state 'step_count' is ", t.dtype(), " ", t.shape(), ", not an i64 scalar");
      count = i64_value(t);
      check(*count >= 0, op, ": state 'step_count' is ", *count, ", negative");
      continue;
    }
    const auto split = split_state_name(name);
    check(split.has_value(), op, ": state '", name, "' is not of the form <parameter index>.<state>");
    const auto& [index, key] = *split;
    check(index < params.size(), op, ": state '", name, "' names parameter ", index, " but there are ", params.size());
    if (key == "step") {
      check(is_count(t), op, ": state '", name, "' is ", t.dtype(), " ", t.shape(), ", not an i64 scalar");
      steps[index] = i64_value(t);
    } else {
      check(tensors[index].emplace(key, t).second, op, ": state '", name, "' appears twice");
    }
  }
  check(count.has_value(), op, ": the state has no 'step_count'");
  for (size_t i = 0; i < params.size(); ++i) {
    if (!steps[i] && tensors[i].empty()) continue;  // a parameter that never took a step
    const std::string prefix = std::to_string(i) + ".";
    check(steps[i].has_value(), op, ": state '", prefix, "step' is missing (parameter ", i, " has other state)");
    check(*steps[i] >= 1 && *steps[i] <= *count, op, ": state '", prefix, "step' is ", *steps[i],
          ", outside [1, step_count = ", *count, "]");
    check_param_state(prefix, *params[i], tensors[i]);
  }
}

void Optimizer::load_state_tensors(const NamedTensors& named) {
  check_state_tensors(named);
  NoGradGuard no_grad;
  std::vector<Tensor> params;
  for (const ParamGroup& group : groups_) params.insert(params.end(), group.params.begin(), group.params.end());
  std::vector<ParamState> loaded(state_.size());
  int64_t loaded_step_count = 0;
  for (const auto& [name, t] : named) {
    if (name == "step_count") {
      loaded_step_count = i64_value(t);
      continue;
    }
    const auto [index, key] = *split_state_name(name);
    if (key == "step")
      loaded[index].steps = i64_value(t);
    else
      loaded[index].tensors[key] = clone(to(t, params[index].device()));
  }
  state_ = std::move(loaded);
  step_count = loaded_step_count;
}

}  // namespace ember
