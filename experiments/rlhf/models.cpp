#include "experiments/rlhf/models.h"

#include "autograd/elementwise.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "nn/init.h"
#include "nn/layers/embedding.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/models/hybrid.h"
#include "nn/sequential.h"
#include "tensor/creation.h"
#include "tensor/error.h"

namespace ember::rlhf {

namespace {

// Heads of 8 dims: the smallest models keep several heads.
int64_t heads_for(int64_t d_model) {
  check(d_model >= 8 && d_model % 8 == 0, "rlhf: d_model must be a positive multiple of 8, got ", d_model);
  return d_model / 8;
}

constexpr int64_t kTransformerBlocks = 2, kHybridConvBlocks = 3, kHybridTransformerBlocks = 1, kConvKernel = 4;

}  // namespace

std::string family_name(Family f) { return f == Family::Transformer ? "transformer" : "hybrid"; }

Family parse_family(const std::string& name) {
  if (name == "transformer") return Family::Transformer;
  if (name == "hybrid") return Family::Hybrid;
  fail("rlhf: unknown model family '", name, "' (transformer, hybrid)");
}

std::shared_ptr<nn::CausalLM> make_policy(Family family, const PolicyOptions& o) {
  nn::GPTOptions lm{.vocab_size = 256, .context_length = o.context, .d_model = o.d_model, .n_heads = heads_for(o.d_model)};
  if (family == Family::Transformer) {
    lm.n_layers = kTransformerBlocks;
    return nn::GPT(lm);
  }
  lm.n_layers = kHybridTransformerBlocks;
  return nn::HybridLM({.lm = lm, .conv_layers = kHybridConvBlocks, .conv_kernel = kConvKernel});
}

RewardModel::RewardModel(const RewardModelOptions& o)
    : Module("RewardModel(" + family_name(o.family) + ", d=" + std::to_string(o.d_model) + ")"), options_(o) {
  check(o.length >= 1, describe(), ": length must be positive, got ", o.length);
  const nn::TransformerBlockOptions block{.d_model = o.d_model, .n_heads = heads_for(o.d_model), .causal = false};
  auto body = std::make_shared<nn::Sequential>();
  const int64_t n_blocks = o.family == Family::Transformer ? kTransformerBlocks : kHybridTransformerBlocks;
  if (o.family == Family::Hybrid)
    for (int64_t i = 0; i < kHybridConvBlocks; ++i)
      body->push_back(std::make_shared<nn::CausalConvBlock>(o.d_model, kConvKernel));
  for (int64_t i = 0; i < n_blocks; ++i) body->push_back(std::make_shared<nn::TransformerBlock>(block));
  tok_emb_ = register_module("tok_emb", std::make_shared<nn::Embedding>(256, o.d_model));
  pos_emb_ = register_parameter("pos_emb", empty({o.length, o.d_model}));
  body_ = register_module("body", body);
  ln_ = register_module("ln", std::make_shared<nn::LayerNorm>(Shape{o.d_model}));
  head_ = register_module("head", std::make_shared<nn::Linear>(o.d_model, 1));
  nn::init_transformer_(*this, static_cast<int64_t>(body->size()));
  nn::init::normal_(pos_emb_, 0, 0.02);
}

Tensor RewardModel::forward(const Tensor& tokens) {
  check(tokens.dtype() == DType::I64 && tokens.dim() == 2 && tokens.size(1) == options_.length, describe(),
        ": tokens ", tokens.shape(), " must be i64 [B, ", options_.length, "]");
  Tensor h = tok_emb_->forward(tokens) + pos_emb_;
  h = ln_->forward(body_->forward(h));
  return squeeze(head_->forward(mean(h, {1})), 1);
}

}  // namespace ember::rlhf
