#include "experiments/hyena/train.h"

#include "autograd/backward.h"
#include "autograd/losses.h"
#include "autograd/shape_ops.h"
#include "optim/clip_grad.h"
#include "optim/lr_schedule.h"
#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::hyena {

std::unique_ptr<AdamW> make_optimizer(nn::CausalLM& model, const TrainOptions& o) {
  check(o.steps >= 1 && o.batch >= 1 && o.lr > 0, "training: steps, batch and lr must be positive, got ", o.steps, ", ",
        o.batch, ", ", o.lr);
  auto opt = std::make_unique<AdamW>(model.parameters(), AdamOptions{.lr = o.lr, .weight_decay = o.weight_decay});
  const auto warmup = static_cast<int64_t>(o.warmup_fraction * static_cast<double>(o.steps));
  opt->set_schedule(linear_decay(o.steps, warmup));
  return opt;
}

Tensor lm_loss(nn::CausalLM& model, const Tensor& inputs, const Tensor& targets) {
  const Tensor logits = model.forward(inputs);
  const int64_t v = logits.size(2);
  return cross_entropy(reshape(logits, {-1, v}), reshape(targets, {-1}));
}

double train_step(nn::CausalLM& model, AdamW& optimizer, const TrainOptions& o, const Tensor& inputs,
                  const Tensor& targets) {
  const Tensor loss = lm_loss(model, inputs, targets);
  optimizer.zero_grad();
  backward(loss);
  if (o.clip > 0) clip_grad_norm(model.parameters(), o.clip);
  optimizer.step();
  return loss.item();
}

Tensor gather_rows(const std::vector<int64_t>& table, int64_t length, const std::vector<int64_t>& indices,
                   Device device) {
  std::vector<int64_t> rows;
  rows.reserve(indices.size() * static_cast<size_t>(length));
  for (int64_t i : indices) {
    check(i >= 0 && (i + 1) * length <= static_cast<int64_t>(table.size()), "gather_rows: row ", i, " out of range");
    rows.insert(rows.end(), table.begin() + i * length, table.begin() + (i + 1) * length);
  }
  return to(from_vector<int64_t>(rows, {static_cast<int64_t>(indices.size()), length}), device);
}

}  // namespace ember::hyena
