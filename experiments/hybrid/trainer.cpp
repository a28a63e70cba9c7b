#include "experiments/hybrid/trainer.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "autograd/ops.h"
#include "experiments/hybrid/families.h"
#include "experiments/hybrid/measure.h"
#include "optim/adam.h"
#include "optim/lr_schedule.h"
#include "tensor/creation.h"

namespace ember::hybrid {
namespace {

using Clock = std::chrono::steady_clock;

// (loss, error) on the first `limit` validation samples, in eval mode.
std::pair<double, double> validate(nn::Module& model, const TaskData& data, int64_t limit) {
  NoGradGuard no_grad;
  model.eval();
  const int64_t n = std::min(limit, data.val_x.size(0)), chunk = 250;
  double loss = 0, wrong = 0;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    const Tensor x = narrow(data.val_x, 0, start, len), y = narrow(data.val_y, 0, start, len);
    const Tensor logits = model(x);
    loss += cross_entropy(logits, y, Reduction::Sum).item();
    wrong += len - sum(to(eq(argmax(logits, 1), y), DType::F32)).item();
  }
  model.train();
  return {loss / double(n), wrong / double(n)};
}

}  // namespace

RunResult train_run(nn::Module& model, const TaskData& data, const TrainSettings& s, uint64_t seed) {
  check(s.steps >= 4 && s.batch >= 1 && s.evaluations >= 1, "train_run: needs steps >= 4, batch >= 1, evaluations >= 1");
  RunResult r;
  r.params = parameter_count(model);
  model.train();
  AdamW opt(model.parameters(), {.lr = s.lr, .weight_decay = 0.01});
  opt.set_schedule(cosine_schedule(s.steps, std::max<int64_t>(1, s.steps / 20), 0.1));
  std::mt19937_64 rng(seed);
  const auto n = static_cast<uint64_t>(data.train_x.size(0));
  auto step = [&] {
    std::vector<int64_t> idx(static_cast<size_t>(s.batch));
    for (auto& i : idx) i = static_cast<int64_t>(rng() % n);
    const Tensor index = from_vector(idx, {s.batch});
    const Tensor loss = cross_entropy(model(index_select(data.train_x, 0, index)), index_select(data.train_y, 0, index));
    opt.zero_grad();
    backward(loss);
    opt.step();
  };
  // Step 0 is measured, not timed: the meters add their own overhead. Its peak includes the
  // gradients and AdamW's two moments (allocated at the first step) and the activations; the
  // parameters, in use before it, are added, and the data set is not counted.
  double parameter_bytes = 0;
  for (const auto& p : model.parameters()) parameter_bytes += double(p.numel() * int64_t(dtype_size(p.dtype())));
  r.peak_bytes = parameter_bytes + peak_bytes(data.train_x.device(), [&] { r.flops_per_step = count_flops(step); });
  r.train_flops = r.flops_per_step * double(s.steps);
  std::vector<int64_t> checkpoints;
  for (int64_t e = 1; e <= s.evaluations; ++e) checkpoints.push_back(s.steps * e / s.evaluations);
  double seconds = 0, loss_at_three_quarters = -1;
  for (int64_t done = 1; done < s.steps;) {
    const int64_t until = *std::upper_bound(checkpoints.begin(), checkpoints.end(), done);
    const auto start = Clock::now();
    for (; done < until; ++done) step();
    // Step 0 was not timed; count it at the mean time of the others.
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    const double elapsed = seconds * double(done) / double(done - 1);
    std::tie(r.val_loss, r.val_error) = validate(model, data, s.max_validation);
    if (r.seconds_to_target < 0 && r.val_error <= s.target_error) r.seconds_to_target = elapsed;
    if (done <= s.steps * 3 / 4) loss_at_three_quarters = r.val_loss;
  }
  r.train_seconds = seconds * double(s.steps) / double(s.steps - 1);
  r.still_improving = loss_at_three_quarters > 0 && r.val_loss < 0.98 * loss_at_three_quarters;
  return r;
}

}  // namespace ember::hybrid
