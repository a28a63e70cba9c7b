#include "experiments/hyena/recall.h"

#include <chrono>
#include <random>

#include "autograd/grad_mode.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "experiments/hyena/mixers.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ember::hyena {

using experiments::Job;
using experiments::JobContext;
using experiments::RunOptions;

double recall_accuracy(nn::CausalLM& model, const RecallSplit& split, int64_t batch, Device device) {
  NoGradGuard no_grad;
  model.eval();
  const int64_t n = split.n_test(), length = split.length;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += batch) {
    std::vector<int64_t> rows;
    for (int64_t i = start; i < std::min(n, start + batch); ++i) rows.push_back(i);
    const Tensor examples = gather_rows(split.test, length, rows, device);
    const Tensor logits = model.forward(slice(examples, 1, 0, length - 1));
    const Tensor predicted = argmax(select(logits, 1, length - 2), 1);  // the last input predicts the value
    const std::vector<int64_t> got = to(predicted, Device::cpu()).to_vector<int64_t>();
    const std::vector<int64_t> want = to(select(examples, 1, length - 1), Device::cpu()).to_vector<int64_t>();
    for (size_t i = 0; i < got.size(); ++i) correct += got[i] == want[i];
  }
  model.train();
  return static_cast<double>(correct) / static_cast<double>(n);
}

namespace {

std::string task_key(const RecallTask& t) {
  return "L=" + std::to_string(t.input_seq_len) + ",V=" + std::to_string(t.vocab_size);
}

void run_recall(JobContext& ctx, const RecallScale& s, const RecallTask& task, const std::string& kind, int seed) {
  const RunOptions& o = ctx.options;
  experiments::Record row = {{"L", task.input_seq_len}, {"vocab", task.vocab_size}, {"model", kind}, {"seed", seed}};
  if (kind == "attention" && task.model_length() > s.attention_max_length) {
    row.update({{"status", "too_large"}, {"test_acc", nullptr}});
    ctx.record(row);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const uint64_t run_seed = o.seed * 1000003ULL + static_cast<uint64_t>(seed);
  const RecallSplit split = recall_split(task, s.n_train, s.n_test, run_seed);
  manual_seed(run_seed);
  auto model = sequence_model(kind, {.vocab_size = task.vocab_size, .context_length = task.model_length(),
                                     .d_model = s.d_model, .n_layers = s.n_layers,
                                     .n_heads = std::max<int64_t>(1, s.d_model / 32), .hyena = s.hyena});
  model->to(o.device);
  auto opt = make_optimizer(*model, s.train);
  std::mt19937_64 rng(run_seed);
  const int64_t length = split.length, evals = 10;
  double acc = 0, loss_sum = 0;
  int64_t step = 0, loss_count = 0;
  bool solved = false;
  while (step < s.train.steps && !solved) {
    std::vector<int64_t> rows(static_cast<size_t>(s.train.batch));
    for (auto& r : rows) r = static_cast<int64_t>(rng() % static_cast<uint64_t>(split.n_train()));
    const Tensor examples = gather_rows(split.train, length, rows, o.device);
    const double loss = train_step(*model, *opt, s.train, slice(examples, 1, 0, length - 1), slice(examples, 1, 1, length));
    check(std::isfinite(loss), "recall ", kind, " ", task_key(task), ": the training loss diverged at step ", step);
    ++step;
    if (step > s.train.steps * 9 / 10) loss_sum += loss, ++loss_count;
    // Test accuracy ten times per run; a run that scores 100% stops there (it has converged).
    if (step % std::max<int64_t>(1, s.train.steps / evals) == 0 || step == s.train.steps) {
      acc = recall_accuracy(*model, split, 64, o.device);
      solved = acc >= 1.0;
      if (ctx.progress.due())
        ctx.progress.line("recall " + kind + " " + task_key(task) + " seed " + std::to_string(seed) + ": step " +
                          std::to_string(step) + ", loss " + std::to_string(loss) + ", test acc " + std::to_string(acc));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  row.update({{"status", solved ? "solved" : "step_budget"}, {"test_acc", acc}, {"steps", step},
              {"final_train_loss", loss_count ? loss_sum / static_cast<double>(loss_count) : std::nan("")},
              {"params", model->num_parameters()}, {"seconds", seconds}});
  ctx.record(row);
}

}  // namespace

std::vector<Job> recall_jobs(const RunOptions&, const RecallScale& s) {
  std::vector<Job> jobs;
  for (const auto& task : s.tasks) {
    check_task(task);
    for (const auto& kind : s.kinds)
      for (int seed = 0; seed < s.seeds; ++seed) {
        // Cost in estimated single-thread seconds (about 0.1 s a step of batch 16 at 64 tokens),
        // the most a run takes; attention's quadratic part is small at these lengths.
        const double cost = 0.1 * static_cast<double>(s.train.steps) * static_cast<double>(s.train.batch) / 16.0 *
                            static_cast<double>(task.model_length()) / 64.0;
        jobs.push_back({"recall", "recall/" + task_key(task) + "/" + kind + "/seed=" + std::to_string(seed), cost,
                        [s, task, kind, seed](JobContext& ctx) { run_recall(ctx, s, task, kind, seed); }});
      }
  }
  return jobs;
}

}  // namespace ember::hyena
