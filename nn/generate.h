#pragma once
// Autoregressive sampling from the causal language models (nn/models/gpt.h: GPT, HyenaLM,
// HybridLM), and the per-token log-probabilities of given continuations (what RLHF and
// likelihood evaluation need).
#include <cstdint>

#include "nn/models/gpt.h"

namespace ember::nn {

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  double temperature = 1.0;  // logits / temperature before the softmax; must be > 0 unless greedy
  int64_t top_k = 0;         // sample among the k most likely tokens (ties: lower index first); 0 = all
  bool greedy = false;       // argmax instead of sampling (temperature and top_k are ignored)
  bool use_cache = true;     // step with CausalLM::forward_step; false recomputes the whole prefix each token
};

// prompts [B, P] (i64, P >= 1, P + max_new_tokens <= context_length) -> [B, P + max_new_tokens]
// i64: the prompts followed by the tokens drawn one at a time from the model's next-token
// distribution. Runs without recording the graph and in eval mode (the model's mode is restored
// afterwards). Sampling draws B uniforms per token from the global Philox generator, so
// manual_seed makes it repeatable; cached and recomputing runs draw the same tokens.
Tensor generate(CausalLM& model, const Tensor& prompts, const GenerateOptions& options);

// One token per row of logits [B, V] by the options' rule (greedy, or temperature and top_k),
// [B] i64 on the logits' device; generate() picks every token with it.
Tensor sample_tokens(const Tensor& logits, const GenerateOptions& options);

// tokens [B, T] (i64) -> [B, T - start]: log p(tokens[:, s] | tokens[:, < s]) for s = start ..
// T - 1 (1 <= start < T), from one forward pass, differentiable, in the model's current mode.
Tensor token_log_probs(CausalLM& model, const Tensor& tokens, int64_t start);

}  // namespace ember::nn
