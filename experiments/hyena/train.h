#pragma once
// What the recall and language-modelling studies share: next-token training steps of a causal
// LM with AdamW, and the reference's schedule (linear warm-up, then linear decay to zero).
#include <memory>
#include <vector>

#include "nn/models/gpt.h"
#include "optim/adam.h"

namespace ember::hyena {

struct TrainOptions {
  int64_t steps = 1000;
  int64_t batch = 32;
  double lr = 5e-4;
  double weight_decay = 0.1;
  double warmup_fraction = 0.1;  // of the steps (the reference: a tenth of the epochs)
  double clip = 1.0;             // gradient-norm clipping
};

// AdamW over the model's parameters with the schedule above.
std::unique_ptr<AdamW> make_optimizer(nn::CausalLM& model, const TrainOptions& options);

// Mean next-token cross-entropy of logits(inputs [B, T]) against targets [B, T] (i64).
Tensor lm_loss(nn::CausalLM& model, const Tensor& inputs, const Tensor& targets);

// One optimizer step on (inputs, targets); returns the loss before the step.
double train_step(nn::CausalLM& model, AdamW& optimizer, const TrainOptions& options, const Tensor& inputs,
                  const Tensor& targets);

// Rows `indices` of a row-major table [n, length] of tokens, as an i64 tensor [indices, length].
Tensor gather_rows(const std::vector<int64_t>& table, int64_t length, const std::vector<int64_t>& indices,
                   Device device);

}  // namespace ember::hyena
