#pragma once
// Shampoo (Gupta, Koren & Singer 2018). A parameter is viewed as a matrix G [m, n] (size-1 dims
// dropped, trailing dims merged) and preconditioned by Kronecker factors: statistics
// L <- beta2 L + w G G^T and R <- beta2 R + w G^T G (w = 1 when beta2 = 1, which accumulates as
// in the paper; w = 1 - beta2 otherwise, a moving average), and the direction
// (L + eps I)^(-1/4) G (R + eps I)^(-1/4). The inverse roots come from f64 eigendecompositions,
// recomputed every `precondition_frequency` steps and cached in between. Dims above
// `max_preconditioner_dim` are cut into blocks, each with its own L and R. Vectors get the
// diagonal version, g (v + eps)^(-1/2) with v <- beta2 v + w g^2.
//
// Grafting (Agarwal et al. 2020) takes the step's direction from Shampoo and its size from a
// simpler method, per parameter: the direction is rescaled to the norm of the SGD direction (g)
// or of the Adam direction (g / (sqrt(v_hat) + graft_epsilon), v as above, bias-corrected when
// beta2 < 1, i.e. AdaGrad when beta2 = 1). Weight decay is added to the gradient first; the
// result drives SGD momentum (PyTorch's semantics, the first buffer is the direction) and lr.
// Statistics live in f32 (f64 for f64 parameters), on the parameter's device: on a GPU they
// accumulate there through matmul, and only the eigendecompositions go through the host (the
// statistic is copied over, its root copied back; see inverse_root.h).
#include "optim/optimizer.h"

namespace ember {

enum class Graft { None, SGD, Adam };

struct ShampooOptions {
  double lr = 1e-3;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0;
  double beta2 = 1.0;
  double epsilon = 1e-6;
  int64_t precondition_frequency = 1;
  int64_t max_preconditioner_dim = 1024;
  Graft graft = Graft::Adam;
  double graft_epsilon = 1e-8;
};

class Shampoo : public Optimizer {
 public:
  Shampoo(std::vector<ParamGroup> groups, ShampooOptions options = {});
  Shampoo(std::vector<Tensor> params, ShampooOptions options = {})
      : Shampoo(one_group(std::move(params)), options) {}

 private:
  void update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, double weight_decay) override;
  void check_param_state(const std::string& prefix, const Tensor& param,
                         const std::map<std::string, Tensor>& state) const override;
  Tensor matrix_direction(const Tensor& g, ParamState& state) const;
  Tensor diagonal_direction(const Tensor& g, ParamState& state) const;
  Tensor graft_norm(const Tensor& g, ParamState& state) const;
  // stat <- beta2 stat + w x, in place.
  void accumulate(const Tensor& stat, const Tensor& x) const;

  ShampooOptions options_;
};

}  // namespace ember
