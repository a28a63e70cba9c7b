#include "experiments/emc/claims.h"

#include <algorithm>
#include <cmath>

#include "experiments/common/markdown.h"
#include "experiments/common/stats.h"
#include "experiments/emc/studies.h"

namespace ember::emc {
namespace {

using experiments::ClaimRow;
using experiments::Decision;
using experiments::format_interval;
using experiments::format_number;
using experiments::Interval;
using experiments::Verdict;

const Measured* find(const Results& r, const Request& q) { return r.find(q.key()); }

// One paired comparison as a claim row; nothing when either side is missing.
void compared(experiments::Report& report, const std::string& id, const std::string& claim, const std::string& source,
              const Measured* a, const Measured* b, Claimed claimed, bool per_param = false,
              const std::string& what = "") {
  if (!a || !b) return;
  const Comparison c = compare(*a, *b, claimed, per_param);
  const std::string ours = (what.empty() ? "" : what + ": ") + a->describe() + " vs " + b->describe() + "; " +
                           (per_param ? "per-parameter " : "") + "ratio " + c.text() +
                           " (effect: mean log2 ratio over paired seeds)";
  report.claim({id, claim, source, ours, decide(c, claimed)});
}

// A statistic of values per seed against a region, with the limits of the measurements.
Decision decide_values(const std::vector<const Measured*>& ms, const Interval& ci, const experiments::Region& region) {
  std::string limit;
  for (const Measured* m : ms) {
    if (m->limited())
      limit += (limit.empty() ? "" : "; ") + m->model + " on " + m->data + ": " + std::to_string(m->limited()) +
               " seeds bounded by a budget-limited or diverged probe";
    if (m->censored_count()) limit += (limit.empty() ? "" : "; ") + m->data + ": the search fitted every sample";
  }
  return experiments::decide(ci, region, limit);
}

void cover_claim(const Scale& s, const Results& r, experiments::Report& report) {
  std::vector<double> ratios;
  std::vector<const Measured*> ms;
  std::string ours;
  for (int64_t d : s.cover_dimensions) {
    const Measured* m = find(r, cover_request(d));
    if (!m) continue;
    ms.push_back(m);
    for (double e : m->emc) ratios.push_back(e / (2.0 * (d + 1)));
    ours += (ours.empty() ? "" : "; ") + ("d=" + std::to_string(d) + ": " + m->describe() + " vs " +
                                          std::to_string(2 * (d + 1)));
  }
  if (ms.empty()) return;
  const Interval ci = experiments::bootstrap_mean(ratios);
  report.claim({"0", "Method check: the search recovers Cover's capacity 2(d+1) within ±25%",
                "Cover (1965): n = 2(d+1) random ±1 labels of Gaussian points are separable with probability 1/2",
                ours + "; EMC / 2(d+1) = " + format_interval(ci), decide_values(ms, ci, {0.75, 1.25})});
}

void params_claim(const Scale& s, const Results& r, experiments::Report& report) {
  for (const auto& [id, labels] : {std::pair{"1a", "random"}, std::pair{"1b", "semantic"}}) {
    const Measured* m = find(r, emc_request(s.mlp, mnist(labels, "real", s.downsample)));
    if (!m) continue;
    std::vector<double> per_param;
    for (double e : m->emc) per_param.push_back(e / static_cast<double>(m->params));
    const Interval ci = experiments::bootstrap_mean(per_param);
    report.claim({id, std::string("EMC below the parameter count (") + labels + " labels)",
                  "standard training fits significantly fewer samples than the model has parameters",
                  m->model + " (" + std::to_string(m->params) + " parameters): EMC / parameters = " + format_interval(ci),
                  decide_values({m}, ci, experiments::below(1))});
  }
}

void data_claim(const Scale& s, const Results& r, experiments::Report& report) {
  // EMC per parameter differs between data sets: |mean log2 ratio| to MNIST above log2(1.5).
  for (const std::string labels : {"semantic", "random"}) {
    const Measured* base = find(r, emc_request(s.data_model, {.dataset = "mnist", .labels = labels, .downsample = s.downsample}));
    if (!base) continue;
    for (const auto& set : data_study_sets()) {
      if (set == "mnist") continue;
      const Measured* m = find(r, emc_request(s.data_model, {.dataset = set, .labels = labels, .downsample = s.downsample}));
      if (!m) continue;
      const Comparison c = compare(*m, *base, Claimed::Level, true);
      std::vector<double> d;
      for (size_t i = 0; i < std::min(m->emc.size(), base->emc.size()); ++i)
        d.push_back(std::log2(std::max(m->emc[i], 1.0) / m->params / (std::max(base->emc[i], 1.0) / base->params)));
      const Interval ci = experiments::bootstrap(static_cast<int>(d.size()), [&](const std::vector<int>& idx) {
        double sum = 0;
        for (int i : idx) sum += d[i];
        return std::fabs(sum / idx.size());
      });
      report.claim({labels == "semantic" ? "2a" : "2b",
                    "EMC per parameter depends on the data set (" + labels + " labels, " + set + " vs MNIST)",
                    "the data set changes how many samples a network fits",
                    m->describe() + " vs MNIST " + base->describe() + "; per-parameter ratio " + c.text() +
                        "; effect |mean log2 ratio| " + format_interval(ci),
                    experiments::decide(ci, experiments::above(std::log2(1.5)), c.limit)});
    }
  }
}

void labels_claims(const Scale& s, const Results& r, experiments::Report& report) {
  for (const auto& m : s.label_models) {
    const auto conds = label_conditions(s.downsample);
    const Measured* sem = find(r, emc_request(m, conds[0].data));
    const Measured* rnd = find(r, emc_request(m, conds[1].data));
    const Measured* noise = find(r, emc_request(m, conds[2].data));
    const Measured* perm = find(r, emc_request(m, conds[3].data));
    compared(report, "3", "Semantic labels fitted more than random labels (" + m.name() + ")",
             "networks fit far fewer samples with random labels", sem, rnd, Claimed::AAbove);
    compared(report, "4", "Gaussian inputs with random labels fitted more than images with random labels (" + m.name() + ")",
             "random inputs are fitted in larger numbers than real images with random labels", noise, rnd,
             Claimed::AAbove);
    if (m.arch == "cnn")
      compared(report, "5a", "Permuted pixels lower a CNN's EMC", "the CNN's locality prior no longer matches", perm,
               sem, Claimed::ABelow);
    else
      compared(report, "5b", "Permuted pixels leave an MLP's EMC level (within ±11%)",
               "an MLP has no locality prior to lose", perm, sem, Claimed::Level);
  }
}

void classes_claims(const Scale& s, const Results& r, experiments::Report& report) {
  const Measured* sem10 = find(r, emc_request(s.mlp, class_subset(s, 10, "semantic")));
  const Measured* sem2 = find(r, emc_request(s.mlp, class_subset(s, 2, "semantic")));
  const Measured* rnd10 = find(r, emc_request(s.mlp, class_subset(s, 10, "random")));
  const Measured* rnd2 = find(r, emc_request(s.mlp, class_subset(s, 2, "random")));
  compared(report, "6a", "Semantic labels: 10 classes fitted less than 2", "with semantic labels the EMC falls as classes are added",
           sem10, sem2, Claimed::ABelow);
  compared(report, "6b", "Random labels: 10 classes fitted more than 2",
           "with random labels the EMC rises as classes are added", rnd10, rnd2, Claimed::AAbove);
}

// The model of `family` with the parameter count nearest `params`.
const Measured* nearest(const Results& r, const std::vector<ModelSpec>& family, int64_t params) {
  const Measured* best = nullptr;
  for (const auto& m : family)
    if (const Measured* x = find(r, architecture_request(m)))
      if (!best || std::fabs(std::log(double(x->params) / params)) < std::fabs(std::log(double(best->params) / params)))
        best = x;
  return best;
}

void architecture_claims(const Scale& s, const Results& r, experiments::Report& report) {
  for (const auto& c : s.cnn_sizes) {
    const Measured* cnn = find(r, architecture_request(c));
    if (!cnn) continue;
    compared(report, "7a", "CNN fits more per parameter than the MLP of nearest size (" + c.name() + ")",
             "CNNs are more parameter-efficient than MLPs, even on random labels", cnn,
             nearest(r, s.mlp_sizes, cnn->params), Claimed::AAbove, true);
  }
  for (const auto& v : s.vit_sizes) {
    const Measured* vit = find(r, architecture_request(v));
    if (!vit) continue;
    compared(report, "7b", "ViT (Adam) fits less per parameter than the CNN of nearest size (" + v.name() + ")",
             "CNNs are more parameter-efficient than ViTs", vit, nearest(r, s.cnn_sizes, vit->params), Claimed::ABelow,
             true);
  }
}

void generalisation_claim(const Scale& s, const Results& r, experiments::Report& report) {
  std::vector<double> gains, gaps;
  std::vector<const Measured*> used;
  for (const auto& m : s.generalisation_models) {
    const Measured* sem = find(r, emc_request(m, mnist("semantic", "real", s.downsample)));
    const Measured* rnd = find(r, emc_request(m, mnist("random", "real", s.downsample)));
    const Measured* test = find(r, test_accuracy_request(m, s));
    if (!sem || !rnd || !test) continue;
    used.push_back(sem);
    used.push_back(rnd);
    gains.push_back(compare(*sem, *rnd, Claimed::AAbove).log2_ratio.estimate);
    gaps.push_back(experiments::mean_of(test->train_accuracy) - experiments::mean_of(test->test_accuracy));
  }
  if (gains.size() < 3) return;
  const Interval ci = experiments::bootstrap(static_cast<int>(gains.size()), [&](const std::vector<int>& idx) {
    std::vector<double> g, p;
    for (int i : idx) g.push_back(gains[i]), p.push_back(gaps[i]);
    return experiments::pearson(g, p);
  });
  Interval point = ci;
  point.estimate = experiments::pearson(gains, gaps);
  report.claim({"9", "The EMC gain of semantic over random labels correlates negatively with the generalisation gap",
                "Pearson r below −0.8 across models (the document's figure); here: r < 0",
                "Pearson r = " + format_interval(point) + " over " + std::to_string(gains.size()) +
                    " models (bootstrap over models; gain = log2 EMC semantic / random, gap = train − test accuracy at n = " +
                    std::to_string(s.generalisation_n) + ")",
                decide_values(used, point, experiments::below(0))});
}

}  // namespace

std::vector<std::string> add_claims(const Scale& s, const Results& r, const std::vector<std::string>& ran,
                                    experiments::Report& report) {
  auto has = [&](const std::string& study) { return std::find(ran.begin(), ran.end(), study) != ran.end(); };
  if (has("cover")) cover_claim(s, r, report);
  if (has("labels")) params_claim(s, r, report);
  if (has("data")) data_claim(s, r, report);
  if (has("labels")) labels_claims(s, r, report);
  if (has("classes")) classes_claims(s, r, report);
  if (has("architectures")) architecture_claims(s, r, report);
  if (has("width-depth"))
    compared(report, "8", "A deep MLP fits more per parameter than a wide one",
             "depth is more parameter-efficient than width",
             find(r, emc_request(s.deep_mlp, mnist("random", "real", s.downsample))),
             find(r, emc_request(s.wide_mlp, mnist("random", "real", s.downsample))), Claimed::AAbove, true);
  if (has("activation"))
    for (const auto& m : s.label_models) {
      ModelSpec tanh = m;
      tanh.activation = "tanh";
      compared(report, "10", "ReLU fits more than tanh (" + m.name() + ", random labels)",
               "ReLU networks fit more samples than sigmoidal ones",
               find(r, emc_request(m, mnist("random", "real", s.downsample))),
               find(r, emc_request(tanh, mnist("random", "real", s.downsample))), Claimed::AAbove);
    }
  if (has("optimizers"))
    compared(report, "11", "SGD fits more than full-batch GD at equal epochs (" + s.mlp.name() + ", random labels)",
             "SGD finds minima that fit more training data than full-batch gradient descent",
             find(r, emc_request(s.mlp, mnist("random", "real", s.downsample), "sgd")),
             find(r, emc_request(s.mlp, mnist("random", "real", s.downsample), "gd")), Claimed::AAbove);
  if (has("generalisation")) generalisation_claim(s, r, report);
  std::vector<std::string> missing;
  for (const auto& info : study_infos())
    if (!has(info.name)) missing.push_back(info.name);
  return missing;
}

}  // namespace ember::emc
