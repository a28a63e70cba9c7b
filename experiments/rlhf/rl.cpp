#include "experiments/rlhf/rl.h"

#include <cmath>

#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "autograd/shape_ops.h"
#include "experiments/common/stats.h"
#include "nn/generate.h"
#include "experiments/rlhf/losses.h"
#include "experiments/rlhf/training.h"
#include "optim/adam.h"
#include "optim/clip_grad.h"
#include "tensor/creation.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ember::rlhf {

std::string algorithm_name(Algorithm a) { return a == Algorithm::PPO ? "ppo" : "rloo"; }

namespace {

// Each prompt row repeated `group` times in a row: [P, L] -> [P group, L].
Tensor repeat_rows(const Tensor& prompts, int group) {
  const auto v = prompts.to_vector<int64_t>();
  const int64_t n = prompts.size(0), length = prompts.size(1);
  std::vector<int64_t> out;
  for (int64_t p = 0; p < n; ++p)
    for (int g = 0; g < group; ++g) out.insert(out.end(), v.begin() + p * length, v.begin() + (p + 1) * length);
  return from_vector(out, {n * group, length});
}

}  // namespace

std::vector<RlStep> fine_tune(nn::CausalLM& policy, nn::CausalLM& reference, RewardModel& reward,
                              const GoldReward& gold, const Corpus& corpus, const RlOptions& o, uint64_t seed) {
  check(o.steps >= 1 && o.prompts >= 1 && o.group >= 2 && o.ppo_epochs >= 1 && o.minibatches >= 1,
        "rlhf: RL needs steps >= 1, prompts >= 1, group >= 2, epochs >= 1 and minibatches >= 1");
  check((o.prompts * o.group) % o.minibatches == 0, "rlhf: ", o.prompts * o.group,
        " samples do not split into ", o.minibatches, " minibatches");
  const int64_t prompt_length = o.sampling.prompt_length, n = o.prompts * o.group;
  Adam optimizer(policy.parameters(), {.lr = o.lr});
  reference.eval();
  std::vector<RlStep> log;
  manual_seed(seed * 65537ULL + 11);
  for (int step = 0; step < o.steps; ++step) {
    // Sample, score, and measure KL to the reference on the samples.
    Tensor sequences = nn::generate(policy, repeat_rows(prompts(corpus, o.prompts, prompt_length, seed * 1000 + step), o.group),
                                    {.max_new_tokens = o.sampling.continuation_length, .temperature = o.sampling.temperature});
    const auto tokens = contiguous(narrow(sequences, 1, prompt_length, o.sampling.continuation_length)).to_vector<int64_t>();
    std::vector<std::string> texts;
    std::vector<double> golds;
    for (int64_t i = 0; i < n; ++i) {
      texts.push_back(decode({tokens.begin() + i * o.sampling.continuation_length,
                              tokens.begin() + (i + 1) * o.sampling.continuation_length}));
      golds.push_back(gold(texts.back()));
    }
    const auto proxy = score_texts(reward, texts);
    Tensor old_logp, ref_logp;
    {
      NoGradGuard no_grad;
      old_logp = token_log_probs(policy, sequences, prompt_length);
      ref_logp = token_log_probs(reference, sequences, prompt_length);
    }
    const auto kl = sequence_kl(old_logp, ref_logp);
    log.push_back({step, experiments::mean_of(proxy), experiments::mean_of(golds), experiments::mean_of(kl)});

    // The KL-penalised reward, leave-one-out advantages scaled to unit spread over the batch.
    std::vector<double> shaped(n);
    for (int64_t i = 0; i < n; ++i) shaped[i] = proxy[i] - o.kl_beta * kl[i];
    auto advantages = leave_one_out_advantages(shaped, o.group);
    const double spread = experiments::stddev_of(advantages) + 1e-8;
    std::vector<float> scaled;
    for (double a : advantages) scaled.push_back(static_cast<float>(a / spread));
    Tensor adv = from_vector(scaled, {n});

    policy.train();
    if (o.algorithm == Algorithm::RLOO) {
      Tensor loss = reinforce_loss(token_log_probs(policy, sequences, prompt_length), adv);
      optimizer.zero_grad();
      backward(loss);
      clip_grad_norm(policy.parameters(), 1.0);
      optimizer.step();
      continue;
    }
    const int64_t size = n / o.minibatches;
    for (int epoch = 0; epoch < o.ppo_epochs; ++epoch)
      for (int m = 0; m < o.minibatches; ++m) {
        Tensor new_logp = token_log_probs(policy, narrow(sequences, 0, m * size, size), prompt_length);
        Tensor loss = ppo_clipped_loss(new_logp, narrow(old_logp, 0, m * size, size), narrow(adv, 0, m * size, size), o.clip);
        optimizer.zero_grad();
        backward(loss);
        clip_grad_norm(policy.parameters(), 1.0);
        optimizer.step();
      }
  }
  policy.eval();
  return log;
}

}  // namespace ember::rlhf
