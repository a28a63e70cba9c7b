#include "experiments/hyena/lm.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "autograd/flops.h"
#include "autograd/elementwise.h"
#include "autograd/grad_mode.h"
#include "autograd/index_ops.h"
#include "autograd/losses.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "experiments/common/text.h"
#include "experiments/hyena/mixers.h"
#include "tensor/creation.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ember::hyena {

using experiments::Job;
using experiments::JobContext;
using experiments::RunOptions;

namespace {

// The validation loss over `count` evenly spaced windows of the split's evaluation windows
// (each target scored once).
struct Validation {
  Tensor inputs, targets, scored;
};

Validation validation_set(const experiments::ByteCorpus& corpus, int64_t context, int64_t count, Device device) {
  const experiments::EvaluationWindows all = experiments::evaluation_windows(corpus, experiments::Split::validation, context);
  const int64_t n = all.tokens.size(0), take = std::min(count, n);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < take; ++i) rows.push_back(i * n / take);
  const Tensor index = from_vector<int64_t>(rows, {take});
  const Tensor tokens = index_select(all.tokens, 0, index);
  return {to(slice(tokens, 1, 0, context), device), to(slice(tokens, 1, 1, context + 1), device),
          to(index_select(all.scored, 0, index), device)};
}

double validation_loss(nn::CausalLM& model, const Validation& v) {
  NoGradGuard no_grad;
  model.eval();
  const Tensor logits = model.forward(v.inputs);
  const Tensor losses = cross_entropy(reshape(logits, {-1, logits.size(2)}), reshape(v.targets, {-1}), Reduction::None);
  const double loss = (sum(losses * reshape(v.scored, {-1})) / sum(v.scored)).item();
  model.train();
  return loss;
}

void run_lm(JobContext& ctx, const LMScale& s, const std::string& family, const LMSize& size, int seed) {
  const RunOptions& o = ctx.options;
  const std::filesystem::path file = o.data / "bible" / "kjv.txt";
  check(std::filesystem::exists(file), "lm study: corpus ", file.string(),
        " not found; run experiments/fetch_data.sh with the --data folder (", o.data.string(), ")");
  const experiments::ByteCorpus corpus = experiments::byte_corpus(experiments::load_bible_kjv(file));
  const Validation val = validation_set(corpus, s.context, s.validation_windows, o.device);
  const uint64_t run_seed = o.seed * 1000003ULL + static_cast<uint64_t>(seed);
  manual_seed(run_seed);
  auto model = sequence_model(family == "gpt" ? "attention" : "hyena",
                              {.vocab_size = 256, .context_length = s.context, .d_model = size.d_model,
                               .n_layers = size.n_layers, .n_heads = std::max<int64_t>(1, size.d_model / 32)});
  model->to(o.device);
  auto opt = make_optimizer(*model, s.train);
  double flops = 0, seconds = 0;
  auto record = [&](int64_t step) {
    ctx.record({{"family", family}, {"size", size.name}, {"d_model", size.d_model}, {"n_layers", size.n_layers},
                {"seed", seed}, {"step", step}, {"flops", flops}, {"seconds", seconds},
                {"val_loss", validation_loss(*model, val)}, {"params", model->num_parameters()}});
  };
  const int64_t every = std::max<int64_t>(1, s.train.steps / s.evals);
  for (int64_t step = 0; step < s.train.steps; ++step) {
    const Tensor batch =
        to(experiments::sample_windows(corpus, experiments::Split::train, s.train.batch, s.context, run_seed, step), o.device);
    const auto start = std::chrono::steady_clock::now();
    FlopCounter counter;  // the training step only: forward, backward (the optimizer is not an op)
    const double loss = train_step(*model, *opt, s.train, slice(batch, 1, 0, s.context), slice(batch, 1, 1, s.context + 1));
    flops += counter.total();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    check(std::isfinite(loss), "lm ", family, " ", size.name, ": the training loss diverged at step ", step);
    if ((step + 1) % every == 0 || step + 1 == s.train.steps) record(step + 1);
  }
}

}  // namespace

std::vector<Job> lm_jobs(const RunOptions&, const LMScale& s) {
  std::vector<Job> jobs;
  for (const auto& size : s.sizes)
    for (const auto& family : s.families)
      for (int seed = 0; seed < s.seeds; ++seed) {
        // Cost in estimated single-thread seconds: about 0.2 s a step for d = 64, 2 layers, batch
        // 16 of 128 bytes.
        const double width = static_cast<double>(size.d_model) / 64.0;
        const double cost = 0.2 * static_cast<double>(s.train.steps) * width * width * static_cast<double>(size.n_layers) /
                            2.0 * static_cast<double>(s.train.batch * s.context) / 2048.0;
        jobs.push_back({"lm", "lm/" + family + "/" + size.name + "/seed=" + std::to_string(seed), cost,
                        [s, family, size, seed](JobContext& ctx) { run_lm(ctx, s, family, size, seed); }});
      }
  return jobs;
}

double flops_to_reach(std::vector<std::pair<double, double>> points, double target) {
  std::sort(points.begin(), points.end());
  double best = INFINITY;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto [f, loss] = points[i];
    if (loss <= target) {
      if (i == 0 || best == INFINITY) return f;
      // Between the previous frontier value `best` (at the previous F) and this point.
      const double f0 = points[i - 1].first;
      const double w = (best - target) / (best - loss);
      return std::exp(std::log(f0) + w * (std::log(f) - std::log(f0)));
    }
    best = std::min(best, loss);
  }
  return std::nan("");
}

}  // namespace ember::hyena
