#pragma once
// The optimizer base: parameter groups, the step loop (under NoGradGuard), zero_grad, the
// learning-rate schedule and per-parameter state that can be saved and loaded exactly.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "optim/lr_schedule.h"
#include "tensor/tensor.h"

namespace ember {

// Parameters sharing a learning rate and weight decay; unset fields take the optimizer's options.
struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<double> lr = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
};

// One group holding `params`, with the optimizer's lr and weight decay.
inline std::vector<ParamGroup> one_group(std::vector<Tensor> params) { return {ParamGroup{.params = std::move(params)}}; }

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter that has a gradient; parameters without one are skipped.
  void step();
  // Drops the gradients (set_to_none) or zeroes them in place.
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // Multiplies every group's lr by schedule(step_count); the checkpointed step_count is
  // therefore all a resumed run needs to continue the schedule.
  void set_schedule(Schedule schedule) { schedule_ = std::move(schedule); }
  // The lr the next step() uses for `group`.
  double current_lr(const ParamGroup& group) const;

  // All state as (name, tensor): "<i>.<state>" for parameter i (counted across groups in
  // order), "<i>.step" (0-d i64: the steps that parameter has taken) and "step_count" (0-d i64).
  // The tensors are the live state, not copies.
  NamedTensors state_tensors() const;
  // Replaces all state by `named` (as state_tensors returned it), copied to the parameters' devices.
  // Everything is checked first (check_state_tensors); on a problem nothing changes.
  void load_state_tensors(const NamedTensors& named);
  // Throws an ember::Error naming the first problem unless `named` is complete, well-formed state
  // for this optimizer's parameters: "step_count" an i64 scalar >= 0; for every parameter that
  // has state, "<i>.step" an i64 scalar in [1, step_count] and exactly the tensors this optimizer
  // keeps (check_param_state), each floating, of the parameter's dtype and shape. Changes nothing.
  void check_state_tensors(const NamedTensors& named) const;

  int64_t step_count = 0;  // completed step() calls

 protected:
  struct ParamState {
    int64_t steps = 0;  // including the one being taken during update()
    std::map<std::string, Tensor> tensors;
  };

  // `name` appears in errors; unset group fields take lr and weight_decay.
  Optimizer(const char* name, std::vector<ParamGroup> groups, double lr, double weight_decay);

  // One parameter's in-place update. param and grad are contiguous with one shape and dtype;
  // lr is the scheduled rate.
  virtual void update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay) = 0;

  // The SGD update with state.tensors["momentum_buffer"] (PyTorch's semantics) along `direction`.
  static void momentum_step(const Tensor& param, const Tensor& direction, ParamState& state, SgdStep h);

  // state.tensors[key], created on first use as zeros of `shape` with `like`'s dtype and device.
  static const Tensor& state_zeros(ParamState& state, const std::string& key, const Tensor& like, const Shape& shape);
  static const Tensor& state_zeros(ParamState& state, const std::string& key, const Tensor& like) {
    return state_zeros(state, key, like, like.shape());
  }

  // Throws (naming the state's `prefix`, "<i>.") unless `state` holds exactly the tensors this
  // optimizer keeps for `param` after a step. The default allows any floating tensors of the
  // parameter's dtype.
  virtual void check_param_state(const std::string& prefix, const Tensor& param,
                                 const std::map<std::string, Tensor>& state) const;
  // Helper for check_param_state: `state` holds exactly `keys`, each of the parameter's dtype and shape.
  void expect_state(const std::string& prefix, const Tensor& param, const std::map<std::string, Tensor>& state,
                    const std::vector<std::string>& keys) const;

  const char* name_;

 private:
  std::vector<ParamGroup> groups_;
  std::vector<ParamState> state_;  // by parameter index across groups
  Schedule schedule_;
};

// Throws naming `op` unless lo <= value <= hi (NaN fails too): hyper-parameter checks.
void check_hyperparameter(const char* op, const char* what, double value, double lo,
                          double hi = std::numeric_limits<double>::infinity());

}  // namespace ember
