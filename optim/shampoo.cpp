#include "optim/shampoo.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "autograd/unary.h"
#include "optim/inverse_root.h"
#include "tensor/creation.h"

namespace ember {
namespace {

// The matrix Shampoo preconditions: size-1 dims dropped, trailing dims merged into the second;
// empty when fewer than two dims remain (the diagonal case).
Shape matrix_shape(const Shape& shape) {
  Shape kept;
  std::copy_if(shape.begin(), shape.end(), std::back_inserter(kept), [](int64_t s) { return s != 1; });
  if (kept.size() < 2) return {};
  return {kept[0], numel_of(kept) / kept[0]};
}

Tensor norm(const Tensor& x) { return sqrt(sum(x * x)); }

}  // namespace

Shampoo::Shampoo(std::vector<ParamGroup> groups, ShampooOptions options)
    : Optimizer("Shampoo", std::move(groups), options.lr, options.weight_decay), options_(options) {
  check_hyperparameter(name_, "momentum", options.momentum, 0, 1);
  check(!options.nesterov || options.momentum > 0, "Shampoo: nesterov momentum needs momentum > 0");
  check(options.beta2 > 0 && options.beta2 <= 1, "Shampoo: beta2 must be in (0, 1], got ", options.beta2);
  check(options.epsilon > 0, "Shampoo: epsilon must be positive, got ", options.epsilon);
  check_hyperparameter(name_, "graft_epsilon", options.graft_epsilon, 0);
  check(options.precondition_frequency >= 1 && options.max_preconditioner_dim >= 1,
        "Shampoo: precondition_frequency and max_preconditioner_dim must be >= 1, got ",
        options.precondition_frequency, " and ", options.max_preconditioner_dim);
}

void Shampoo::accumulate(const Tensor& stat, const Tensor& x) const {
  if (options_.beta2 < 1) {
    mul_(stat, options_.beta2);
    add_(stat, x, 1 - options_.beta2);
  } else {
    add_(stat, x);
  }
}

Tensor Shampoo::matrix_direction(const Tensor& g, ParamState& state) const {
  const int64_t rows = g.size(0), cols = g.size(1), block = options_.max_preconditioner_dim;
  const bool blocked = rows > block || cols > block;
  const Tensor out = blocked ? empty(g.shape(), {.dtype = g.dtype(), .device = g.device()}) : Tensor();
  int index = 0;
  for (int64_t r = 0; r < rows; r += block) {
    for (int64_t c = 0; c < cols; c += block, ++index) {
      const Tensor gb = narrow(narrow(g, 0, r, std::min(block, rows - r)), 1, c, std::min(block, cols - c));
      const Tensor gbt = transpose(gb, 0, 1);
      const std::string key = "block" + std::to_string(index) + ".";
      const Tensor left = state_zeros(state, key + "left", g, {gb.size(0), gb.size(0)});
      const Tensor right = state_zeros(state, key + "right", g, {gb.size(1), gb.size(1)});
      accumulate(left, matmul(gb, gbt));
      accumulate(right, matmul(gbt, gb));
      // A checkpoint without the cached roots recomputes them rather than failing.
      if ((state.steps - 1) % options_.precondition_frequency == 0 || !state.tensors.contains(key + "left_root")) {
        state.tensors[key + "left_root"] = inverse_root(left, 4, options_.epsilon);
        state.tensors[key + "right_root"] = inverse_root(right, 4, options_.epsilon);
      }
      const Tensor d = matmul(matmul(state.tensors[key + "left_root"], gb), state.tensors[key + "right_root"]);
      if (!blocked) return d;
      copy_(narrow(narrow(out, 0, r, d.size(0)), 1, c, d.size(1)), d);
    }
  }
  return out;
}

Tensor Shampoo::diagonal_direction(const Tensor& g, ParamState& state) const {
  const Tensor v = state_zeros(state, "diagonal", g);
  accumulate(v, g * g);
  return g * rsqrt(v + options_.epsilon);
}

Tensor Shampoo::graft_norm(const Tensor& g, ParamState& state) const {
  if (options_.graft == Graft::SGD) return norm(g);
  const Tensor v = state_zeros(state, "graft_sq", g);
  accumulate(v, g * g);
  const double correction = options_.beta2 < 1 ? 1 - std::pow(options_.beta2, static_cast<double>(state.steps)) : 1;
  return norm(g / (sqrt(v / correction) + options_.graft_epsilon));
}

void Shampoo::update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay) {
  const DType compute = param.dtype() == DType::F64 ? DType::F64 : DType::F32;
  Tensor g = to(grad, compute);
  if (weight_decay != 0) g = g + to(param, compute) * weight_decay;
  const Shape matrix = matrix_shape(param.shape());
  Tensor direction = matrix.empty() ? diagonal_direction(g, state)
                                    : reshape(matrix_direction(reshape(g, matrix), state), param.shape());
  // 1e-30 only guards the zero gradient, whose graft norm is zero as well.
  if (options_.graft != Graft::None) direction = direction * (graft_norm(g, state) / (norm(direction) + 1e-30));
  momentum_step(param, contiguous(to(direction, param.dtype())), state,
                {.lr = lr, .momentum = options_.momentum, .nesterov = options_.nesterov});
}

// The preconditioner blocks' shapes depend on the blocking; the per-element state has the
// parameter's shape, and everything its dtype.
void Shampoo::check_param_state(const std::string& prefix, const Tensor& param,
                                const std::map<std::string, Tensor>& state) const {
  Optimizer::check_param_state(prefix, param, state);
  for (const char* key : {"momentum_buffer", "diagonal", "graft_sq"})
    if (const auto it = state.find(key); it != state.end())
      check(it->second.shape() == param.shape(), name_, ": state '", prefix, key, "' has shape ", it->second.shape(),
            " but the parameter ", param.shape());
}

}  // namespace ember
