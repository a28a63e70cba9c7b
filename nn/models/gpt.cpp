#include "nn/models/gpt.h"

#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/shape_ops.h"
#include "nn/init.h"
#include "nn/layers/dropout.h"
#include "nn/layers/embedding.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/support.h"
#include "tensor/creation.h"

namespace ember::nn {

TransformerBlockOptions gpt_block_options(const GPTOptions& o) {
  return {.d_model = o.d_model,
          .n_heads = o.n_heads,
          .mlp_ratio = o.mlp_ratio,
          .activation = o.activation,
          .dropout = o.dropout,
          .causal = true};
}

CausalLM::CausalLM(const char* name, const GPTOptions& o, std::shared_ptr<Sequential> body, const std::string& detail)
    : Module(describe_call(name, "vocab=" + std::to_string(o.vocab_size), "context=" + std::to_string(o.context_length),
                           o.d_model, "layers=" + std::to_string(o.n_layers), detail)),
      options_(o) {
  check_positive(describe(), {o.vocab_size, o.context_length, o.d_model});
  check(o.dropout >= 0 && o.dropout <= 1, describe(), ": dropout must be in [0, 1]");
  check(body != nullptr, describe(), ": the body is null");
  tok_emb_ = register_module("tok_emb", std::make_shared<Embedding>(o.vocab_size, o.d_model));
  if (o.position_embedding) pos_emb_ = register_parameter("pos_emb", empty({o.context_length, o.d_model}));
  if (o.dropout > 0) dropout_ = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  body_ = register_module("body", std::move(body));
  ln_f_ = register_module("ln_f", std::make_shared<LayerNorm>(Shape{o.d_model}));
  if (!o.tie_weights) lm_head_ = register_module("lm_head", std::make_shared<Linear>(o.d_model, o.vocab_size, false));
  init_transformer_(*this, static_cast<int64_t>(body_->size()));
  if (pos_emb_.defined()) init::normal_(pos_emb_, 0, 0.02);
}

void CausalLM::check_tokens(const Tensor& tokens, const char* call) const {
  check(tokens.dtype() == DType::I64 && tokens.dim() == 2 && tokens.size(0) >= 1, describe(), ": ", call, " tokens ",
        tokens.shape(), " (", tokens.dtype(), ") must be i64 [B, T] with B >= 1");
}

Tensor CausalLM::head(const Tensor& h) {
  const Tensor n = (*ln_f_)(h);
  return lm_head_ ? (*lm_head_)(n) : matmul(n, transpose(tok_emb_->weight(), 0, 1));
}

Tensor CausalLM::forward(const Tensor& tokens) {
  check_tokens(tokens, "forward");
  const int64_t length = tokens.size(1);
  check(length >= 1 && length <= options_.context_length, describe(), ": tokens ", tokens.shape(), " have length ",
        length, ", outside 1 .. context_length = ", options_.context_length);
  Tensor h = (*tok_emb_)(tokens);
  if (pos_emb_.defined()) h = h + slice(pos_emb_, 0, 0, length);
  if (dropout_) h = (*dropout_)(h);
  return head((*body_)(h));
}

Tensor CausalLM::forward_step(const Tensor& tokens, DecodeState& state) {
  check_tokens(tokens, "forward_step");
  const int64_t past = state.length, chunk = tokens.size(1);
  check(chunk >= 1 && past + chunk <= options_.context_length, describe(), ": forward_step tokens ", tokens.shape(),
        " after ", past, " cached positions reach length ", past + chunk, ", outside 1 .. context_length = ",
        options_.context_length);
  check(past == 0 || tokens.size(0) == state.batch, describe(), ": forward_step tokens ", tokens.shape(),
        " for a state of batch ", state.batch);
  std::vector<CausalStep*> blocks;
  for (size_t i = 0; i < body_->size(); ++i) {
    auto* block = dynamic_cast<CausalStep*>((*body_)[i].get());
    check(block != nullptr, describe(), ": body block ", i, " ", (*body_)[i]->describe(), " cannot step (forward_step)");
    blocks.push_back(block);
  }
  if (past == 0) state.blocks.assign(blocks.size(), StepCache{});
  check(state.blocks.size() == blocks.size(), describe(), ": forward_step state has ", state.blocks.size(),
        " block caches for ", blocks.size(), " blocks");
  Tensor h = (*tok_emb_)(tokens);
  if (pos_emb_.defined()) h = h + slice(pos_emb_, 0, past, past + chunk);
  if (dropout_) h = (*dropout_)(h);
  for (size_t i = 0; i < blocks.size(); ++i) h = blocks[i]->forward_step(h, state.blocks[i]);
  state.length = past + chunk;
  state.batch = tokens.size(0);
  return head(h);
}

std::shared_ptr<CausalLM> GPT(const GPTOptions& o) {
  return std::make_shared<CausalLM>("GPT", o, transformer_blocks(o.n_layers, gpt_block_options(o)));
}

std::shared_ptr<CausalLM> HyenaLM(const GPTOptions& o) {
  check(o.n_layers >= 0, "HyenaLM: n_layers must be non-negative, got ", o.n_layers);
  auto body = std::make_shared<Sequential>();
  for (int64_t i = 0; i < o.n_layers; ++i)
    body->push_back(std::make_shared<TransformerBlock>(
        gpt_block_options(o), std::make_shared<HyenaOperator>(o.d_model, o.context_length, o.hyena)));
  return std::make_shared<CausalLM>("HyenaLM", o, body, "order=" + std::to_string(o.hyena.order));
}

}  // namespace ember::nn
