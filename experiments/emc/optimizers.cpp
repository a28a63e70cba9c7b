#include "experiments/emc/optimizers.h"

#include "optim/optim.h"

namespace ember::emc {

bool full_batch(const std::string& name) { return name == "gd"; }

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params, double lr) {
  if (name == "sgd" || name == "gd")
    return std::make_unique<SGD>(std::move(params), SgdOptions{.lr = lr, .momentum = 0.9});
  if (name == "adam") return std::make_unique<Adam>(std::move(params), AdamOptions{.lr = lr});
  if (name == "adamw") return std::make_unique<AdamW>(std::move(params), AdamOptions{.lr = lr, .weight_decay = 0.01});
  // Preconditioners refreshed every 10 steps: an eigendecomposition per step would make
  // Shampoo the most expensive part of the program for no change in what it measures.
  if (name == "shampoo")
    return std::make_unique<Shampoo>(std::move(params), ShampooOptions{.lr = lr, .precondition_frequency = 10});
  fail("make_optimizer: unknown optimizer '", name, "' (known: sgd, gd, adam, adamw, shampoo)");
}

LearningRateRange learning_rate_range(const std::string& name) {
  if (name == "sgd" || name == "gd") return {0.1, 1e-3, 10.0};
  if (name == "adam" || name == "adamw" || name == "shampoo") return {3e-3, 1e-5, 0.3};
  fail("learning_rate_range: unknown optimizer '", name, "'");
}

}  // namespace ember::emc
