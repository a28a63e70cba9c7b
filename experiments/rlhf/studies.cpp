#include "experiments/rlhf/studies.h"

#include <memory>

#include "experiments/rlhf/lab.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ember::rlhf {

namespace {

using experiments::Job;
using experiments::JobContext;
using experiments::Record;

// Trains one preference model of replicate `seed` on `pairs` pairs and records its accuracies.
Record train_and_measure(Lab& lab, Family family, int64_t width, int64_t pairs, int seed, bool attack) {
  const Scale& s = lab.scale();
  const auto& data = lab.preferences(seed);
  manual_seed(lab.seed(seed, 40 + static_cast<uint64_t>(family)) + static_cast<uint64_t>(width));
  RewardModel model({.family = family, .d_model = width, .length = s.sampling.continuation_length});
  const auto r = train_reward_model(model, lab.pool(), data, pairs, s.reward_training, lab.seed(seed, 41));
  Record row{{"family", family_name(family)},
             {"width", width},
             {"params", model.num_parameters()},
             {"pairs", pairs},
             {"seed", seed},
             {"test_accuracy", r.test_accuracy},
             {"test_gold_accuracy", r.test_gold_accuracy},
             {"validation_accuracy", r.validation_accuracy},
             {"best_step", r.best_step},
             {"steps", s.reward_training.steps},
             {"label_noise", data.label_noise}};
  if (attack) {
    const auto a = attack_reward_model(model, lab.pool(), lab.gold(), data.test, s.attack, lab.seed(seed, 42));
    row["attacked"] = a.attacked;
    row["attack_success"] = a.success_rate;
    row["attack_score_gain"] = a.mean_score_gain;
    row["attack_gold_change"] = a.mean_gold_change;
  }
  return row;
}

}  // namespace

experiments::Program rlhf_program() {
  experiments::Program p;
  p.info = {
      .name = "rlhf",
      .title = "RLHF on hybrids and Transformers: preference-model scaling, robustness, data efficiency, KL",
      .source = "ember issue \"Experiment: RLHF on hybrids and Transformers\" (claims from a survey of hybrid "
                "architectures; over-optimisation after Gao et al. 2022, arXiv 2210.10760)",
      .description =
          "Simulated RLHF on byte-level English (the King James Bible): a hidden gold reward labels pairs of "
          "continuations of pre-trained GPT and hybrid policies by Bradley-Terry draws; Transformer and hybrid "
          "preference models of several sizes learn from them; PPO and RLOO tune both policies against a learned "
          "reward with a KL penalty. Writes scaling.csv, efficiency.csv, rl.csv, summary.json, PNG plots and "
          "REPORT.md.",
      .studies = {{"scaling", "does preference accuracy grow log-linearly with size, and robustness with it?"},
                  {"efficiency", "do hybrids reach an accuracy with fewer preference pairs?"},
                  {"rl", "do hybrids drift less (KL) for the same reward gain, and where do proxy and gold part?"}},
      .mode_help = {"2 seeds, 3 reward-model sizes, 24 RL steps: about 6 CPU-minutes (no verdicts)",
                    "5 seeds, 5 sizes (11k-119k parameters), 50 RL steps: about 80 CPU-minutes in 80 jobs of <= 6 "
                    "minutes single-threaded",
                    "8 seeds, 6 sizes up to d=192, longer texts and 300 RL steps (meant for --device cuda)"}};
  // The models are built and trained on the host; a CUDA run is not implemented yet.
  p.validate = [](const experiments::RunOptions& options) {
    check(options.device.is_cpu(), "--device: rlhf runs on the CPU only for now (got a CUDA device)");
  };
  p.plan = [](const experiments::RunOptions& options) {
    auto lab = std::make_shared<Lab>(scale_for(options.mode), options);
    const Scale& s = lab->scale();
    std::vector<Job> jobs;
    for (int seed = 0; seed < s.seeds; ++seed)
      for (Family f : {Family::Transformer, Family::Hybrid}) {
        const std::string tag = family_name(f) + "/seed" + std::to_string(seed);
        for (int64_t w : s.widths)
          jobs.push_back({"scaling", "scaling/" + tag + "/d" + std::to_string(w), static_cast<double>(w * w) / 256.0 + 4,
                          [lab, f, w, seed](JobContext& ctx) {
                            ctx.record(train_and_measure(*lab, f, w, lab->scale().train_pairs, seed, true));
                          }});
        jobs.push_back({"efficiency", "efficiency/" + tag, 6.0 * static_cast<double>(s.pair_counts.size()),
                        [lab, f, seed](JobContext& ctx) {
                          for (int64_t n : lab->scale().pair_counts)
                            ctx.record(train_and_measure(*lab, f, lab->scale().efficiency_width, n, seed, false));
                        }});
        for (Algorithm a : s.algorithms)
          jobs.push_back({"rl", "rl/" + tag + "/" + algorithm_name(a), 0.6 * s.rl.steps * s.rl.prompts / 16.0,
                          [lab, f, a, seed](JobContext& ctx) {
                            RlOptions o = lab->scale().rl;
                            o.algorithm = a;
                            auto& reward = lab->rl_reward_model(seed);
                            auto policy = lab->policy_copy(f);
                            auto reference = lab->policy_copy(f);
                            const auto log = fine_tune(*policy, *reference, reward, lab->gold(), lab->corpus(), o,
                                                       lab->seed(seed, 50 + static_cast<uint64_t>(f)));
                            for (const auto& st : log)
                              ctx.record({{"family", family_name(f)},
                                          {"algorithm", algorithm_name(a)},
                                          {"seed", seed},
                                          {"params", policy->num_parameters()},
                                          {"pretrain_loss", lab->pretrain_loss(f)},
                                          {"step", st.step},
                                          {"proxy", st.proxy},
                                          {"gold", st.gold},
                                          {"kl", st.kl}});
                          }});
      }
    return jobs;
  };
  p.report = write_report;
  return p;
}

}  // namespace ember::rlhf
