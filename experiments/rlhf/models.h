#pragma once
// The two families compared throughout, at matched parameter counts:
// - policies: byte-level causal LMs, nn::GPT (2 Transformer blocks) against nn::HybridLM
//   (3 causal convolution blocks then 1 Transformer block; a conv block holds about 4 d^2
//   weights against a Transformer block's 12 d^2, so both bodies hold about 24 d^2);
// - preference (reward) models: encoders over a continuation's bytes with a scalar head, the same
//   two bodies without the causal mask on attention, mean-pooled.
#include <cstdint>
#include <memory>
#include <string>

#include "nn/models/gpt.h"
#include "nn/module.h"

namespace ember::rlhf {

enum class Family { Transformer, Hybrid };
std::string family_name(Family f);  // "transformer", "hybrid"
Family parse_family(const std::string& name);

struct PolicyOptions {
  int64_t d_model = 64, context = 64;
};
std::shared_ptr<nn::CausalLM> make_policy(Family family, const PolicyOptions& options);

struct RewardModelOptions {
  Family family = Family::Transformer;
  int64_t d_model = 32;  // heads of 8 dims each
  int64_t length = 32;   // the continuation's bytes
};

// tokens [B, length] (i64) -> scores [B]: embeddings + learned positions, body, LayerNorm, mean
// over positions, Linear(d, 1).
class RewardModel : public nn::Module {
 public:
  explicit RewardModel(const RewardModelOptions& options);
  Tensor forward(const Tensor& tokens) override;
  const RewardModelOptions& options() const { return options_; }

 private:
  RewardModelOptions options_;
  nn::ModulePtr tok_emb_, body_, ln_, head_;
  Tensor pos_emb_;
};

}  // namespace ember::rlhf
