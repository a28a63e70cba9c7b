#include "experiments/rlhf/losses.h"

#include "autograd/elementwise.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "autograd/unary.h"
#include "tensor/error.h"

namespace ember::rlhf {

Tensor bradley_terry_loss(const Tensor& chosen, const Tensor& rejected) {
  check(chosen.dim() == 1 && chosen.shape() == rejected.shape() && chosen.numel() > 0,
        "bradley_terry_loss: chosen ", chosen.shape(), " and rejected ", rejected.shape(), " must be the same [N]");
  // -log sigmoid(d) = softplus(-d), stable for large |d|.
  return mean(softplus(rejected - chosen));
}

std::vector<double> sequence_kl(const Tensor& logp, const Tensor& ref_logp) {
  check(logp.dim() == 2 && logp.shape() == ref_logp.shape(), "sequence_kl: log-probabilities ", logp.shape(), " and ",
        ref_logp.shape(), " must be the same [N, T]");
  const auto diff = contiguous(sum(detach(logp) - detach(ref_logp), {1})).to_vector<float>();
  return {diff.begin(), diff.end()};
}

std::vector<double> leave_one_out_advantages(const std::vector<double>& rewards, int group) {
  check(group >= 2, "leave_one_out_advantages: groups need 2 or more samples, got ", group);
  check(!rewards.empty() && rewards.size() % static_cast<size_t>(group) == 0, "leave_one_out_advantages: ",
        rewards.size(), " rewards do not split into groups of ", group);
  std::vector<double> advantages(rewards.size());
  for (size_t g = 0; g < rewards.size(); g += static_cast<size_t>(group)) {
    double total = 0;
    for (int i = 0; i < group; ++i) total += rewards[g + i];
    for (int i = 0; i < group; ++i)
      advantages[g + i] = rewards[g + i] - (total - rewards[g + i]) / static_cast<double>(group - 1);
  }
  return advantages;
}

Tensor ppo_clipped_loss(const Tensor& new_logp, const Tensor& old_logp, const Tensor& advantages, double clip) {
  check(new_logp.dim() == 2 && new_logp.shape() == old_logp.shape(), "ppo_clipped_loss: log-probabilities ",
        new_logp.shape(), " and ", old_logp.shape(), " must be the same [N, T]");
  check(advantages.dim() == 1 && advantages.size(0) == new_logp.size(0), "ppo_clipped_loss: advantages ",
        advantages.shape(), " must be [N] with N = ", new_logp.size(0));
  check(clip > 0 && clip < 1, "ppo_clipped_loss: clip must be in (0, 1), got ", clip);
  Tensor ratio = exp(new_logp - detach(old_logp));
  Tensor a = unsqueeze(detach(advantages), 1);
  return -mean(minimum(ratio * a, clamp(ratio, 1 - clip, 1 + clip) * a));
}

Tensor reinforce_loss(const Tensor& logp, const Tensor& advantages) {
  check(logp.dim() == 2 && advantages.dim() == 1 && advantages.size(0) == logp.size(0), "reinforce_loss: logp ",
        logp.shape(), " and advantages ", advantages.shape(), " must be [N, T] and [N]");
  return -mean(sum(logp, {1}) * detach(advantages));
}

}  // namespace ember::rlhf
