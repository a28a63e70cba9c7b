#pragma once
// TEMPORARY stand-in for nn/generate.h (cached sampling, landing in main from another branch):
// the same declarations, implemented by recomputing the whole prefix for every token. Deleted
// when nn/generate.h is merged; nothing else in this folder changes then but the include.
#include <cstdint>

#include "nn/models/gpt.h"

namespace ember::nn {

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  double temperature = 1.0;
  int64_t top_k = 0;
  bool greedy = false;
  bool use_cache = true;
};

Tensor generate(CausalLM& model, const Tensor& prompts, const GenerateOptions& options);
Tensor token_log_probs(CausalLM& model, const Tensor& tokens, int64_t start);

}  // namespace ember::nn
