#pragma once
// The RL pieces of RLHF, as plain functions of tensors so the tests can check them against hand
// computations: the Bradley-Terry preference loss, the KL estimator, per-prompt baselines, and
// the PPO and REINFORCE policy losses (Ouyang et al. 2022; Ahmadian et al. 2024 for RLOO).
#include <vector>

#include "tensor/tensor.h"

namespace ember::rlhf {

// -mean(log sigmoid(chosen - rejected)) over [N] scores: the negative log-likelihood of the
// labels under the Bradley-Terry model p(chosen > rejected) = sigmoid(r_c - r_r). Differentiable.
Tensor bradley_terry_loss(const Tensor& chosen, const Tensor& rejected);

// Per-sequence KL(policy || reference) estimates from samples of the policy: log-probabilities
// of the sampled tokens [N, T] under both -> sum_t (logp - ref_logp) per sequence (the unbiased
// "k1" estimator of the sequence-level KL; a single sample may be negative).
std::vector<double> sequence_kl(const Tensor& logp, const Tensor& ref_logp);

// Leave-one-out advantages: rewards come in groups of `group` samples of one prompt (rows
// g * group .. g * group + group - 1), and each sample's baseline is the mean of the others'
// rewards in its group (RLOO). group >= 2.
std::vector<double> leave_one_out_advantages(const std::vector<double>& rewards, int group);

// PPO's clipped surrogate (Schulman et al. 2017) over sequences: with ratio = exp(new_logp -
// old_logp) per token [N, T] and advantages [N] (one per sequence, shared by its tokens),
// -mean_{n,t} min(ratio A, clamp(ratio, 1 - clip, 1 + clip) A). old_logp is a constant.
Tensor ppo_clipped_loss(const Tensor& new_logp, const Tensor& old_logp, const Tensor& advantages, double clip);

// REINFORCE with a baseline: -mean_n(A_n sum_t logp[n, t]).
Tensor reinforce_loss(const Tensor& logp, const Tensor& advantages);

}  // namespace ember::rlhf
