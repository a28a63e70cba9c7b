#include "experiments/rlhf/generate_shim.h"

#include <vector>

#include "autograd/elementwise.h"
#include "autograd/functional.h"
#include "autograd/grad_mode.h"
#include "autograd/index_ops.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::nn {

Tensor generate(CausalLM& model, const Tensor& prompts, const GenerateOptions& options) {
  check(prompts.dim() == 2 && prompts.size(1) >= 1, "generate: prompts must be [B, P] with P >= 1");
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const int64_t batch = prompts.size(0);
  std::vector<int64_t> tokens = contiguous(prompts).to_vector<int64_t>();
  int64_t length = prompts.size(1);
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    Tensor logits = select(model.forward(from_vector(tokens, {batch, length})), 1, length - 1);
    std::vector<float> probs = contiguous(softmax(logits * (1.0 / options.temperature), -1)).to_vector<float>();
    std::vector<float> u = rand({batch}).to_vector<float>();
    const int64_t vocab = logits.size(1);
    std::vector<int64_t> next(batch);
    for (int64_t b = 0; b < batch; ++b) {
      double c = 0;
      next[b] = vocab - 1;
      for (int64_t v = 0; v < vocab; ++v) {
        c += probs[b * vocab + v];
        if (u[b] < c) {
          next[b] = v;
          break;
        }
      }
    }
    std::vector<int64_t> grown;
    for (int64_t b = 0; b < batch; ++b) {
      grown.insert(grown.end(), tokens.begin() + b * length, tokens.begin() + (b + 1) * length);
      grown.push_back(next[b]);
    }
    tokens = std::move(grown);
    ++length;
  }
  if (was_training) model.train();
  return from_vector(tokens, {batch, length});
}

Tensor token_log_probs(CausalLM& model, const Tensor& tokens, int64_t start) {
  const int64_t t = tokens.size(1);
  Tensor logp = log_softmax(model.forward(slice(tokens, 1, 0, t - 1)), -1);
  Tensor picked = squeeze(gather(logp, 2, unsqueeze(slice(tokens, 1, 1, t), 2)), 2);
  return slice(picked, 1, start - 1, t - 1);
}

}  // namespace ember::nn
