#include "nn/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "autograd/functional.h"
#include "autograd/grad_mode.h"
#include "autograd/index_ops.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember::nn {
namespace {

void check_options(const char* fn, const GenerateOptions& o) {
  check(o.max_new_tokens >= 0, fn, ": max_new_tokens must be non-negative, got ", o.max_new_tokens);
  check(o.top_k >= 0, fn, ": top_k must be non-negative (0 = all tokens), got ", o.top_k);
  check(o.greedy || (o.temperature > 0 && std::isfinite(o.temperature)), fn,
        ": temperature must be positive and finite unless greedy, got ", o.temperature);
}

// Eval mode for a scope, the previous mode restored after it.
class EvalGuard {
 public:
  explicit EvalGuard(Module& m) : module_(m), was_training_(m.is_training()) { m.eval(); }
  ~EvalGuard() { module_.train(was_training_); }
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

// One row's token: the top-k candidates by logit (ties: lower index first), each weighted by
// exp((logit - max) / temperature), the one where the cumulative weight passes u * total.
int64_t draw(const double* logits, int64_t vocab, double u, const GenerateOptions& o, int64_t row) {
  const int64_t k = o.top_k == 0 ? vocab : std::min(o.top_k, vocab);
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  const double top = logits[order[0]];
  check(std::isfinite(top), "sample_tokens: row ", row, " of the logits has no finite maximum (", top, ")");
  std::vector<double> weights(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i)
    weights[static_cast<size_t>(i)] = std::exp((logits[order[static_cast<size_t>(i)]] - top) / o.temperature);
  const double target = u * std::accumulate(weights.begin(), weights.end(), 0.0);
  int64_t choice = order[0];
  double cumulative = 0;
  for (int64_t i = 0; i < k; ++i) {
    const double w = weights[static_cast<size_t>(i)];
    if (w == 0) continue;  // -inf logits are never drawn, not even when rounding overshoots
    choice = order[static_cast<size_t>(i)];
    cumulative += w;
    if (cumulative > target) break;
  }
  return choice;
}

}  // namespace

Tensor sample_tokens(const Tensor& logits, const GenerateOptions& options) {
  check_options("sample_tokens", options);
  check(logits.dim() == 2 && logits.size(0) >= 1 && logits.size(1) >= 1 && is_floating(logits.dtype()),
        "sample_tokens: logits ", logits.shape(), " (", logits.dtype(), ") must be floating [B, V] with B, V >= 1");
  if (options.greedy) return argmax(logits, 1);
  const int64_t batch = logits.size(0), vocab = logits.size(1);
  // Sampling runs on the host: B x V values per token, small next to the forward that made them.
  const std::vector<double> values = logits.to_vector<double>();
  const std::vector<double> uniforms = rand({batch}, {.dtype = DType::F64}).to_vector<double>();
  std::vector<int64_t> tokens(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    const auto row = static_cast<size_t>(b);
    tokens[row] = draw(&values[row * static_cast<size_t>(vocab)], vocab, uniforms[row], options, b);
  }
  return from_vector<int64_t>(tokens, {batch}, {.dtype = DType::I64, .device = logits.device()});
}

Tensor generate(CausalLM& model, const Tensor& prompts, const GenerateOptions& options) {
  check_options("generate", options);
  check(prompts.dtype() == DType::I64 && prompts.dim() == 2 && prompts.size(0) >= 1 && prompts.size(1) >= 1,
        "generate: prompts ", prompts.shape(), " (", prompts.dtype(), ") must be i64 [B, P] with B, P >= 1");
  const int64_t context = model.options().context_length, steps = options.max_new_tokens;
  check(prompts.size(1) + steps <= context, "generate: prompts ", prompts.shape(), " plus max_new_tokens = ", steps,
        " exceed the context_length ", context, " of ", model.describe());
  NoGradGuard no_grad;
  EvalGuard eval(model);
  if (steps == 0) return clone(prompts);
  DecodeState state;
  Tensor sequence = prompts;
  Tensor logits = options.use_cache ? model.forward_step(prompts, state) : model(prompts);
  for (int64_t i = 0;; ++i) {
    const Tensor next = unsqueeze(sample_tokens(select(logits, 1, logits.size(1) - 1), options), 1);  // [B, 1]
    sequence = cat({sequence, next}, 1);
    if (i + 1 == steps) return sequence;
    logits = options.use_cache ? model.forward_step(next, state) : model(sequence);
  }
}

Tensor token_log_probs(CausalLM& model, const Tensor& tokens, int64_t start) {
  check(tokens.dtype() == DType::I64 && tokens.dim() == 2, "token_log_probs: tokens ", tokens.shape(), " (",
        tokens.dtype(), ") must be i64 [B, T]");
  const int64_t length = tokens.size(1);
  check(start >= 1 && start < length, "token_log_probs: start ", start, " must be in 1 .. T - 1 for tokens ",
        tokens.shape());
  // The logits at position s - 1 predict token s.
  const Tensor log_probs = log_softmax(slice(model(tokens), 1, start - 1, length - 1), -1);
  return squeeze(gather(log_probs, 2, unsqueeze(contiguous(slice(tokens, 1, start, length)), 2)), 2);
}

}  // namespace ember::nn
