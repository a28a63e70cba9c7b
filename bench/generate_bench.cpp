// Tokens per second of autoregressive generation (nn/generate.h) with the decode caches
// (CausalLM::forward_step) against recomputing the whole prefix for every token, for a
// char-level GPT: d 128, 4 blocks of 4 heads, vocab 65, context 256, batch 8, prompts of 16
// tokens continued to the full context (240 new tokens). Prints one JSON object per mode
// ({"case", "ms", "tokens_per_s"}) and the ratio. usage: generate_bench [new_tokens]
#include <iostream>
#include <string>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "nn/nn.h"

int main(int argc, char** argv) {
  using namespace ember;
  const int64_t vocab = 65, context = 256, batch = 8, prompt = 16;
  const int64_t new_tokens = argc > 1 ? std::stoll(argv[1]) : context - prompt;
  manual_seed(0);
  auto model = nn::GPT({.vocab_size = vocab, .context_length = context, .d_model = 128, .n_layers = 4, .n_heads = 4});
  const Tensor prompts = randint(0, vocab, {batch, prompt});
  double ms[2] = {};
  for (bool cache : {true, false}) {
    const nn::GenerateOptions options{.max_new_tokens = new_tokens, .top_k = 10, .use_cache = cache};
    // The recomputing runs take seconds each: fewer of them.
    ms[cache ? 0 : 1] = bench::median_ms([&] { nn::generate(*model, prompts, options); }, 1, cache ? 5 : 3);
    const double per_s = static_cast<double>(batch * new_tokens) / (ms[cache ? 0 : 1] / 1000);
    std::cout << "{\"case\": \"generate_" << (cache ? "cached" : "recompute") << "\", \"ms\": " << ms[cache ? 0 : 1]
              << ", \"tokens_per_s\": " << per_s << "}" << std::endl;
  }
  std::cout << "cached / recompute speed: " << ms[1] / ms[0] << "x" << std::endl;
}
