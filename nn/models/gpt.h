#pragma once
// Causal language models over token indices: GPT (Radford et al. 2019, GPT-2's pre-norm
// layout) and the Hyena LM (Poli et al. 2023), the same skeleton with a HyenaOperator in
// place of attention in every block. The sequence hybrid (nn/models/hybrid.h) is the same
// skeleton again with causal convolution blocks first.
#include <string>
#include <vector>

#include "nn/layers/hyena.h"
#include "nn/layers/step.h"
#include "nn/layers/transformer.h"

namespace ember::nn {

class Embedding;

struct GPTOptions {
  int64_t vocab_size = 0;
  int64_t context_length = 256;  // the longest input; the position table's size
  int64_t d_model = 128;
  int64_t n_layers = 4;  // blocks
  int64_t n_heads = 4;   // attention heads (GPT)
  double mlp_ratio = 4;
  std::string activation = "gelu";
  double dropout = 0;               // on the embeddings, attention probabilities and residual branches
  bool tie_weights = true;          // the LM head is the token embedding's transpose (GPT-2)
  bool position_embedding = true;   // learned absolute positions added to the token embeddings
  HyenaOptions hyena = {};          // the operators of HyenaLM (order 2 by default)
};

// The caches of one CausalLM for one batch of sequences, for forward_step: one StepCache per
// body block (nn/layers/step.h) and the number of positions seen. A new DecodeState starts a
// new batch.
struct DecodeState {
  int64_t length = 0;
  int64_t batch = 0;  // set by the first step
  std::vector<StepCache> blocks;
};

// tokens [B, T] (i64, T <= context_length) -> logits [B, T, vocab]:
//   h = dropout(tok_emb(tokens) + pos_emb[:T]);  h = body(h);  logits = head(ln_f(h))
// The body holds the blocks, [B, T, d] -> [B, T, d], each of which must be causal for the model
// to be a language model. Children: tok_emb, body, ln_f (, lm_head when the weights are not
// tied); pos_emb [context_length, d] is a parameter. Built with init_transformer_ over all
// body->size() blocks and pos_emb ~ N(0, 0.02).
class CausalLM : public Module {
 public:
  // describe(): "name(vocab=V, context=C, d, layers=L, detail)".
  CausalLM(const char* name, const GPTOptions& options, std::shared_ptr<Sequential> body, const std::string& detail = "");
  Tensor forward(const Tensor& tokens) override;
  // tokens [B, t] (i64) continue the sequences the state has seen (length L): the logits of the
  // new positions L .. L + t - 1 only, [B, t, V], as forward() over the whole sequences gives
  // them; the state then holds L + t positions. Every body block must step (CausalStep):
  // attention caches keys and values, causal conv blocks their last inputs, Hyena operators
  // recompute their prefix. Differentiable, like forward().
  Tensor forward_step(const Tensor& tokens, DecodeState& state);
  const GPTOptions& options() const { return options_; }

 private:
  GPTOptions options_;
  std::shared_ptr<Embedding> tok_emb_;
  std::shared_ptr<Sequential> body_;
  ModulePtr ln_f_, lm_head_, dropout_;
  Tensor pos_emb_;

  void check_tokens(const Tensor& tokens, const char* call) const;
  // ln_f and the LM head over the body's output [B, T, d].
  Tensor head(const Tensor& h);
};

// The causal TransformerBlock of a GPT with these options.
TransformerBlockOptions gpt_block_options(const GPTOptions& options);

// n_layers causal TransformerBlocks with attention.
std::shared_ptr<CausalLM> GPT(const GPTOptions& options);
// n_layers TransformerBlocks whose mixer is HyenaOperator(d_model, context_length, options.hyena).
std::shared_ptr<CausalLM> HyenaLM(const GPTOptions& options);

}  // namespace ember::nn
