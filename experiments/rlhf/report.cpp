// The report: each claim's effect per replicate (seed), its bootstrap interval and verdict, the
// tables behind it, and the plots.
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "experiments/common/markdown.h"
#include "experiments/common/stats.h"
#include "experiments/rlhf/analysis.h"
#include "experiments/rlhf/scale.h"
#include "experiments/rlhf/studies.h"

namespace ember::rlhf {

namespace {

using namespace ember::experiments;

const std::vector<Record>& rows_of(const Records& records, const std::string& study) {
  static const std::vector<Record> none;
  auto it = records.find(study);
  return it == records.end() ? none : it->second;
}

double num(const Record& r, const char* key) { return r.at(key).get<double>(); }
std::string str(const Record& r, const char* key) { return r.at(key).get<std::string>(); }

const char* kFamilies[] = {"transformer", "hybrid"};

std::string fmt(double v, int digits = 3) { return format_number(v, digits); }

// Per family, per seed: the (x, y) points of one measurement, x ascending.
using Curves = std::map<std::string, std::map<int, std::vector<std::pair<double, double>>>>;

Curves curves(const std::vector<Record>& rows, const char* x_key, const char* y_key, bool log10_x) {
  Curves c;
  for (const auto& r : rows) {
    if (!r.contains(y_key)) continue;
    const double x = num(r, x_key);
    c[str(r, "family")][static_cast<int>(num(r, "seed"))].push_back({log10_x ? std::log10(x) : x, num(r, y_key)});
  }
  for (auto& [f, by_seed] : c)
    for (auto& [s, pts] : by_seed) std::sort(pts.begin(), pts.end());
  return c;
}

std::vector<double> xs(const std::vector<std::pair<double, double>>& p) {
  std::vector<double> v;
  for (auto& q : p) v.push_back(q.first);
  return v;
}
std::vector<double> ys(const std::vector<std::pair<double, double>>& p) {
  std::vector<double> v;
  for (auto& q : p) v.push_back(q.second);
  return v;
}

// Mean and sd over seeds at each x of a family's curves.
struct MeanCurve {
  std::vector<double> x, mean, sd;
};
MeanCurve mean_curve(const std::map<int, std::vector<std::pair<double, double>>>& by_seed) {
  std::map<double, std::vector<double>> at;
  for (const auto& [s, pts] : by_seed)
    for (auto& [x, y] : pts) at[x].push_back(y);
  MeanCurve m;
  for (auto& [x, v] : at) {
    m.x.push_back(x);
    m.mean.push_back(mean_of(v));
    m.sd.push_back(stddev_of(v));
  }
  return m;
}

// More than half the runs peaked at their last validation check: still improving when stopped.
std::string still_improving_note(const std::vector<Record>& rows) {
  int last = 0;
  for (const auto& r : rows) last += num(r, "best_step") >= num(r, "steps");
  if (rows.empty() || 2 * last <= static_cast<int>(rows.size())) return "";
  return std::to_string(last) + " of " + std::to_string(rows.size()) +
         " reward models were still improving at their last check (training stopped by the step budget)";
}

void scaling_claims(const std::vector<Record>& rows, Report& report) {
  if (rows.empty()) {
    report.untested("1, 2 (scaling, robustness)", "the scaling study was not run");
    return;
  }
  const auto acc = curves(rows, "params", "test_accuracy", true);
  const auto attack = curves(rows, "params", "attack_success", true);
  const std::string budget = still_improving_note(rows);

  // Claim 1: slope of accuracy on log10(parameters), per seed, hybrids.
  std::vector<double> slopes, r2s;
  std::vector<std::vector<double>> hybrid_curves;
  std::vector<double> grid;
  if (acc.count("hybrid"))
    for (const auto& [s, pts] : acc.at("hybrid")) {
      if (pts.size() < 2) continue;
      const auto f = fit_line(xs(pts), ys(pts));
      slopes.push_back(f.slope);
      r2s.push_back(f.r2);
      hybrid_curves.push_back(ys(pts));
      grid = xs(pts);
    }
  const Interval slope = bootstrap_mean(slopes);
  report.claim({"1", "Preference-model accuracy grows log-linearly with size (hybrids)",
                "accuracy rises linearly in log(parameters)",
                "slope " + format_interval(slope) + " accuracy per decade of parameters (per-seed fits over " +
                    std::to_string(grid.size()) + " sizes)",
                decide(slope, above(0), budget)});
  // "Log-linear" is decided on the fit of the seed-mean curve: R^2 above 0.8, resampling seeds.
  Interval r2;
  if (hybrid_curves.size() >= 2 && grid.size() >= 2) {
    auto r2_of = [&](const std::vector<int>& idx) {
      std::vector<double> m(grid.size(), 0);
      for (int i : idx)
        for (size_t k = 0; k < grid.size(); ++k) m[k] += hybrid_curves[i][k] / static_cast<double>(idx.size());
      return fit_line(grid, m).r2;
    };
    std::vector<int> all(hybrid_curves.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    r2 = bootstrap(static_cast<int>(hybrid_curves.size()), r2_of);
    r2.estimate = r2_of(all);
  }
  report.claim({"1b", "... and a line fits it (R^2 of the seed-mean curve > 0.8)", "log-linear",
                "R^2 " + format_interval(r2) + " (bootstrap over seeds)", decide(r2, above(0.8), budget)});

  // Claim 2: attack success against log10(parameters), slope per seed averaged over the families.
  std::map<int, std::vector<double>> by_seed;
  for (const auto& [f, seeds] : attack)
    for (const auto& [s, pts] : seeds)
      if (pts.size() >= 2) by_seed[s].push_back(fit_line(xs(pts), ys(pts)).slope);
  std::vector<double> attack_slopes;
  for (auto& [s, v] : by_seed) attack_slopes.push_back(mean_of(v));
  const Interval as = bootstrap_mean(attack_slopes);
  report.claim({"2", "Larger preference models are more robust to adversarial inputs",
                "robustness grows with size",
                "slope of attack success " + format_interval(as) +
                    " per decade of parameters (both families; negative = more robust)",
                decide(as, below(0), budget)});

  // Table and plots.
  std::vector<std::vector<std::string>> table;
  LinePlot acc_plot{.title = "Preference accuracy against size", .xlabel = "reward-model parameters",
                    .ylabel = "held-out label accuracy", .log_x = true};
  LinePlot attack_plot{.title = "Adversarial attack success against size", .xlabel = "reward-model parameters",
                       .ylabel = "fraction of pairs flipped", .log_x = true};
  for (const char* f : kFamilies) {
    if (!acc.count(f)) continue;
    const auto m = mean_curve(acc.at(f));
    const auto a = attack.count(f) ? mean_curve(attack.at(f)) : MeanCurve{};
    const auto gold_acc = mean_curve(curves(rows, "params", "test_gold_accuracy", true).at(f));
    Series s{.name = f}, t{.name = f};
    for (size_t i = 0; i < m.x.size(); ++i) {
      const double params = std::pow(10.0, m.x[i]);
      s.x.push_back(params), s.y.push_back(m.mean[i]), s.err.push_back(m.sd[i]);
      if (i < a.x.size()) t.x.push_back(params), t.y.push_back(a.mean[i]), t.err.push_back(a.sd[i]);
      table.push_back({f, std::to_string(std::llround(params)), format_mean_sd(m.mean[i], m.sd[i], 3),
                       fmt(gold_acc.mean[i], 3), i < a.x.size() ? format_mean_sd(a.mean[i], a.sd[i], 2) : "-"});
    }
    acc_plot.series.push_back(s);
    attack_plot.series.push_back(t);
  }
  report.line_plot("accuracy_vs_size.png", acc_plot);
  report.line_plot("attack_vs_size.png", attack_plot);
  std::ostringstream text;
  text << "Accuracy is agreement with the held-out (noisy) labels at the best validation check; gold accuracy is "
          "agreement with the gold order on the same pairs. The annotator flips "
       << fmt(100 * num(rows.front(), "label_noise"), 3)
       << "% of the labels against the gold order, so a perfect model scores about "
       << fmt(100 * (1 - num(rows.front(), "label_noise")), 3) << "% on labels.\n\n"
       << "Per-seed fits of the hybrids: mean R^2 " << fmt(mean_of(r2s), 2) << ".\n\n"
       << markdown_table({"family", "parameters", "label accuracy", "gold accuracy", "attack success"}, table);
  report.section("Preference models against size", text.str());
}

void efficiency_claim(const std::vector<Record>& rows, Report& report) {
  if (rows.empty()) {
    report.untested("3 (data efficiency)", "the efficiency study was not run");
    return;
  }
  const auto acc = curves(rows, "pairs", "test_accuracy", false);
  if (!acc.count("hybrid") || !acc.count("transformer")) return;
  // The target: 80% of the way from chance to the weaker family's mean accuracy at the most pairs.
  double weaker = 1;
  for (const char* f : kFamilies) weaker = std::min(weaker, mean_curve(acc.at(f)).mean.back());
  const double target = 0.5 + 0.8 * (weaker - 0.5);
  std::vector<double> hybrid, transformer;
  int censored = 0;
  double n_max = 0;
  for (const auto& [s, pts] : acc.at("hybrid")) {
    if (!acc.at("transformer").count(s)) continue;
    const auto& other = acc.at("transformer").at(s);
    n_max = pts.back().first;
    for (auto [curve, out] : {std::pair{&pts, &hybrid}, std::pair{&other, &transformer}}) {
      double n = first_reaching(xs(*curve), ys(*curve), target);
      if (std::isnan(n)) ++censored, n = 2 * n_max;
      out->push_back(n);
    }
  }
  const Interval saving = paired_relative_saving(hybrid, transformer);
  const std::string budget =
      censored ? std::to_string(censored) + " curves never reached the target within " + fmt(n_max, 4) +
                     " pairs (counted as " + fmt(2 * n_max, 4) + ")"
               : still_improving_note(rows);
  report.claim({"3", "Hybrids reach a preference accuracy with fewer pairs than Transformers",
                "fewer preference samples",
                "hybrids need " + format_interval(saving, 3, true) + " fewer pairs to reach " + fmt(100 * target, 3) +
                    "% accuracy (paired over seeds; mean " + fmt(mean_of(hybrid), 3) + " vs " +
                    fmt(mean_of(transformer), 3) + ")",
                decide(saving, above(0), budget)});
  LinePlot plot{.title = "Preference accuracy against training pairs", .xlabel = "training pairs",
                .ylabel = "held-out label accuracy", .log_x = true};
  std::vector<std::vector<std::string>> table;
  for (const char* f : kFamilies) {
    const auto m = mean_curve(acc.at(f));
    plot.series.push_back({.name = f, .x = m.x, .y = m.mean, .err = m.sd});
    for (size_t i = 0; i < m.x.size(); ++i) table.push_back({f, std::to_string(static_cast<int64_t>(m.x[i])), format_mean_sd(m.mean[i], m.sd[i], 3)});
  }
  plot.series.push_back({.name = "target", .x = {plot.series[0].x.front(), plot.series[0].x.back()},
                         .y = {target, target}, .dashed = true});
  report.line_plot("accuracy_vs_pairs.png", plot);
  const Record& r0 = rows.front();
  report.section("Preference models against training pairs",
                 "Reward models of width " + std::to_string(r0.at("width").get<int64_t>()) + " (" +
                     std::to_string(r0.at("params").get<int64_t>()) + " parameters as a " + str(r0, "family") +
                     "), one run per pair count and seed.\n\n" +
                     markdown_table({"family", "pairs", "label accuracy"}, table));
}

struct Run {
  std::vector<double> proxy, gold, kl;
};

void rl_claims(const std::vector<Record>& rows, Report& report) {
  if (rows.empty()) {
    report.untested("4, 5 (RL fine-tuning)", "the rl study was not run");
    return;
  }
  // algorithm -> family -> seed -> run
  std::map<std::string, std::map<std::string, std::map<int, Run>>> runs;
  for (const auto& r : rows) {
    Run& run = runs[str(r, "algorithm")][str(r, "family")][static_cast<int>(num(r, "seed"))];
    run.proxy.push_back(num(r, "proxy"));
    run.gold.push_back(num(r, "gold"));
    run.kl.push_back(num(r, "kl"));
  }
  constexpr int kSmooth = 5;
  auto gain_curve = [](const Run& run) {
    auto m = moving_average(run.proxy, kSmooth);
    const double base = (run.proxy[0] + run.proxy[std::min<size_t>(1, run.proxy.size() - 1)] +
                         run.proxy[std::min<size_t>(2, run.proxy.size() - 1)]) / 3;
    for (auto& v : m) v -= base;
    return m;
  };
  // Claim 4, per algorithm: KL at the step each run first reaches half the weaker family's final gain.
  for (const auto& [algo, fams] : runs) {
    if (!fams.count("hybrid") || !fams.count("transformer")) continue;
    double weaker = kInf;
    for (const char* f : kFamilies) {
      std::vector<double> finals;
      for (const auto& [s, run] : fams.at(f)) finals.push_back(gain_curve(run).back());
      weaker = std::min(weaker, mean_of(finals));
    }
    const double target = 0.5 * weaker;
    std::vector<double> kl_h, kl_t;
    int censored = 0;
    for (const auto& [s, run] : fams.at("hybrid")) {
      if (!fams.at("transformer").count(s)) continue;
      for (auto [r, out] : {std::pair{&run, &kl_h}, std::pair{&fams.at("transformer").at(s), &kl_t}}) {
        const auto gain = gain_curve(*r);
        const auto kl = moving_average(r->kl, kSmooth);
        size_t i = 0;
        while (i < gain.size() && gain[i] < target) ++i;
        if (i == gain.size()) ++censored, i = gain.size() - 1;
        out->push_back(kl[i]);
      }
    }
    std::string budget;
    if (weaker <= 0) budget = "the policies gained no proxy reward within the step budget";
    else if (censored) budget = std::to_string(censored) + " runs never reached the common reward gain";
    const Interval d = paired_difference(kl_t, kl_h);
    report.claim({algo == "ppo" ? "4" : "4b",
                  "Hybrids drift less from the pre-trained policy (KL) for the same reward gain (" + algo + ")",
                  "lower KL divergence during RL fine-tuning",
                  "KL(transformer) - KL(hybrid) = " + format_interval(d) + " nats at a proxy gain of " + fmt(target, 3) +
                      " (means " + fmt(mean_of(kl_t), 3) + " vs " + fmt(mean_of(kl_h), 3) + ")",
                  decide(d, above(0), budget)});
  }
  // Claim 5: proxy-gold correlation over steps in the first and last thirds of every run, averaged
  // over the runs of a seed (both families, both algorithms): the replicates are the seeds.
  std::map<int, std::vector<double>> early_by_seed, delta_by_seed;
  std::vector<double> early_slope, late_slope;
  for (const auto& [algo, fams] : runs)
    for (const auto& [f, seeds] : fams)
      for (const auto& [s, run] : seeds) {
        const size_t n = run.proxy.size(), third = n / 3;
        if (third < 3) continue;
        auto window = [&](size_t from) {
          std::vector<double> p(run.proxy.begin() + from, run.proxy.begin() + from + third),
              g(run.gold.begin() + from, run.gold.begin() + from + third);
          return std::pair{p, g};
        };
        auto [pe, ge] = window(0);
        auto [pl, gl] = window(n - third);
        const double re = pearson(pe, ge), rl = pearson(pl, gl);
        if (std::isnan(re) || std::isnan(rl)) continue;
        early_by_seed[s].push_back(re);
        delta_by_seed[s].push_back(rl - re);
        early_slope.push_back(fit_line(pe, ge).slope);
        late_slope.push_back(fit_line(pl, gl).slope);
      }
  std::vector<double> early_r, delta_r;
  for (const auto& [s, v] : early_by_seed) early_r.push_back(mean_of(v));
  for (const auto& [s, v] : delta_by_seed) delta_r.push_back(mean_of(v));
  const Interval er = bootstrap_mean(early_r), dr = bootstrap_mean(delta_r);
  report.claim({"5", "Proxy and gold reward correlate linearly early in RL fine-tuning",
                "approximately linear early", "Pearson r over the first third of steps " + format_interval(er) +
                    " (run means of " + std::to_string(early_r.size()) + " seeds; claimed region r > 0.5)",
                decide(er, above(0.5))});
  report.claim({"5b", "... and the relation weakens later (proxy and gold part)", "the relation changes later",
                "r(last third) - r(first third) " + format_interval(dr) + "; gold-per-proxy slope early " +
                    fmt(mean_of(early_slope), 3) + ", late " + fmt(mean_of(late_slope), 3),
                decide(dr, below(0))});

  // Plots: mean curves per algorithm and family.
  LinePlot reward{.title = "Rewards during RL fine-tuning", .xlabel = "step", .ylabel = "mean reward"};
  LinePlot kl_plot{.title = "KL(policy || reference) during RL fine-tuning", .xlabel = "step", .ylabel = "nats"};
  LinePlot gold_kl{.title = "Gold reward against KL", .xlabel = "KL (nats)", .ylabel = "gold reward"};
  LinePlot gold_proxy{.title = "Gold against proxy reward", .xlabel = "proxy reward", .ylabel = "gold reward"};
  std::vector<std::vector<std::string>> table;
  for (const auto& [algo, fams] : runs)
    for (const auto& [f, seeds] : fams) {
      size_t n = SIZE_MAX;
      for (const auto& [s, run] : seeds) n = std::min(n, run.proxy.size());
      Run mean;
      for (size_t i = 0; i < n; ++i) {
        double p = 0, g = 0, k = 0;
        for (const auto& [s, run] : seeds) p += run.proxy[i], g += run.gold[i], k += run.kl[i];
        const double m = static_cast<double>(seeds.size());
        mean.proxy.push_back(p / m), mean.gold.push_back(g / m), mean.kl.push_back(k / m);
      }
      std::vector<double> steps;
      for (size_t i = 0; i < n; ++i) steps.push_back(static_cast<double>(i));
      const std::string name = f + " " + algo;
      const auto ps = moving_average(mean.proxy, kSmooth), gs = moving_average(mean.gold, kSmooth),
                 ks = moving_average(mean.kl, kSmooth);
      reward.series.push_back({.name = name + " proxy", .x = steps, .y = ps});
      reward.series.push_back({.name = name + " gold", .x = steps, .y = gs, .dashed = true});
      kl_plot.series.push_back({.name = name, .x = steps, .y = ks});
      gold_kl.series.push_back({.name = name, .x = ks, .y = gs});
      gold_proxy.series.push_back({.name = name, .x = mean.proxy, .y = mean.gold, .points_only = true});
      table.push_back({f, algo, std::to_string(seeds.size()), fmt(mean.proxy.front(), 3) + " -> " + fmt(ps.back(), 3),
                       fmt(mean.gold.front(), 3) + " -> " + fmt(gs.back(), 3), fmt(ks.back(), 3)});
    }
  report.line_plot("rl_rewards.png", reward);
  report.line_plot("rl_kl.png", kl_plot);
  report.line_plot("gold_vs_kl.png", gold_kl);
  report.line_plot("gold_vs_proxy.png", gold_proxy);
  report.section("RL fine-tuning",
                 "Means over seeds; 'end' values are averaged over the last 5 steps. KL is the sequence-level "
                 "estimate sum_t log pi(y_t) - log pi_ref(y_t) on the step's own samples.\n\n" +
                     markdown_table({"policy", "algorithm", "seeds", "proxy start -> end", "gold start -> end",
                                     "KL at end"},
                                    table));
}

}  // namespace

void write_report(const RunOptions& options, const Records& records, Report& report) {
  const Scale s = scale_for(options.mode);
  scaling_claims(rows_of(records, "scaling"), report);
  efficiency_claim(rows_of(records, "efficiency"), report);
  rl_claims(rows_of(records, "rl"), report);
  report.untested("Anything about human labellers (agreement, biases) or about models of billions of parameters",
                  "preferences are simulated from a known gold reward, and the models are 10^4-10^5 parameters");
  report.scale_note("Policies are byte-level LMs of about " + std::to_string(s.policy.d_model * s.policy.d_model * 24 / 1000 + 20) +
                    "k parameters pre-trained for " + std::to_string(s.pretrain.steps) +
                    " steps on the King James Bible, not LLMs of billions of parameters pre-trained on the web.");
  report.scale_note("Preferences are Bradley-Terry draws from a hidden gold reward (word, punctuation, repetition, "
                    "vowel and junk-byte terms; see README.md), not human judgements: the true quality of every text is "
                    "known, which real RLHF never has.");
  report.scale_note("Continuations are " + std::to_string(s.sampling.continuation_length) + " bytes after " +
                    std::to_string(s.sampling.prompt_length) + "-byte prompts; reward models have " +
                    std::to_string(s.widths.front()) + "-" + std::to_string(s.widths.back()) +
                    " channels; RL runs " + std::to_string(s.rl.steps) + " steps of " +
                    std::to_string(s.rl.prompts * s.rl.group) + " samples.");
  report.section(
      "How this differs from RLHF on large language models",
      "Real RLHF (Christiano et al. 2017; Ouyang et al. 2022; Bai et al. 2022) fine-tunes a pre-trained LLM on "
      "human comparisons of its outputs, trains a reward model initialised from the LLM itself, and runs PPO with "
      "a per-token KL penalty for thousands of steps. Here every piece is scaled down and made measurable: the "
      "'human' is a formula, so reward-model accuracy can be split into label noise and model error, "
      "over-optimisation is seen directly as the gap between proxy and gold reward, and adversarial edits are "
      "scored by the truth. The reward models are trained from scratch rather than from the policy, the KL penalty "
      "is applied per sequence, and the policies' samples are only semi-fluent English, so effects that need "
      "language understanding (helpfulness, harmlessness) are out of reach.");
}

}  // namespace ember::rlhf
