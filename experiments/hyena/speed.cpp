#include "experiments/hyena/speed.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>

#include "autograd/autocast.h"
#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "autograd/reduce.h"
#include "experiments/hyena/standard_attention.h"
#include "nn/layers/attention.h"
#include "nn/layers/hyena.h"
#include "tensor/creation.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "tensor/storage.h"

namespace ember::hyena {

using experiments::Job;
using experiments::JobContext;
using experiments::RunOptions;

double estimated_bytes(const std::string& op, const SpeedScale& s, int64_t length) {
  const double tokens = static_cast<double>(s.batch * length), d = static_cast<double>(s.d_model);
  const double heads = d / static_cast<double>(s.head_dim), f32 = 4;
  if (op == "standard_attention")  // scores, probabilities and their gradients, plus the projections
    return f32 * (4 * static_cast<double>(s.batch) * heads * static_cast<double>(length) * static_cast<double>(length) +
                  16 * tokens * d);
  if (op == "fused_attention") return f32 * 16 * tokens * d;
  check(op == "hyena", "estimated_bytes: unknown operator ", op);
  // (order + 1) d projected channels, the FFT buffers (twice the length, complex) per
  // convolution, kept for the backward.
  return f32 * tokens * d * (8 * static_cast<double>(s.order + 1) + 12 * static_cast<double>(s.order));
}

namespace {

std::shared_ptr<nn::Module> make_operator(const std::string& op, const SpeedScale& s, int64_t length) {
  if (op == "hyena") return std::make_shared<nn::HyenaOperator>(s.d_model, length, nn::HyenaOptions{.order = s.order});
  if (op == "fused_attention") return std::make_shared<nn::MultiHeadAttention>(s.d_model, s.d_model / s.head_dim, true);
  return std::make_shared<StandardAttention>(s.d_model, s.d_model / s.head_dim);
}

// Milliseconds of one call; reading one number back waits for a GPU to finish.
double time_ms(const std::function<double()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  const double sink = fn();
  const auto stop = std::chrono::steady_clock::now();
  check(std::isfinite(sink), "speed study: the timed computation produced a non-finite value");
  return std::chrono::duration<double, std::milli>(stop - start).count();
}

void run_length(JobContext& ctx, const SpeedScale& s, int64_t length) {
  const RunOptions& o = ctx.options;
  const bool gpu = o.device.type == DeviceType::CUDA;
  manual_seed(o.seed + static_cast<uint64_t>(length));
  struct Timed {
    std::string op;
    std::shared_ptr<nn::Module> module;
  };
  std::vector<Timed> ops;
  for (const auto& op : speed_operators()) {
    const double bytes = estimated_bytes(op, s, length);
    if (bytes > s.byte_cap) {
      ctx.record({{"T", length}, {"op", op}, {"pass", "forward"}, {"rep", -1}, {"ms", nullptr},
                  {"status", "too_large"}, {"est_bytes", bytes}});
      continue;
    }
    auto m = make_operator(op, s, length);
    m->to(o.device);
    ops.push_back({op, m});
  }
  const Tensor x = randn({s.batch, length, s.d_model}, {.device = o.device});
  // bf16 on the GPU as the paper's benchmark; f32 on the CPU.
  AutocastGuard autocast(DType::BF16, gpu);
  auto forward = [&](nn::Module& m) {
    NoGradGuard no_grad;
    return sum(m.forward(x)).item();
  };
  auto forward_backward = [&](nn::Module& m) {
    const Tensor xg = detach(x);
    xg.set_requires_grad();
    const Tensor loss = sum(m.forward(xg));
    backward(loss);
    return sum(xg.grad()).item();
  };
  for (auto& t : ops) forward_backward(*t.module);  // warm-up: plans, caches, allocations
  for (int rep = 0; rep < s.repeats; ++rep) {
    for (auto& t : ops) {
      const double f = time_ms([&] { return forward(*t.module); });
      t.module->zero_grad();
      // Peak bytes of forward + backward above what was held before (weights, input).
      const double held = static_cast<double>(memory_in_use(o.device));
      reset_peak_memory(o.device);
      const double fb = time_ms([&] { return forward_backward(*t.module); });
      const double peak = static_cast<double>(peak_memory(o.device)) - held;
      for (const auto& [pass, ms] : {std::pair{"forward", f}, std::pair{"forward_backward", fb}})
        ctx.record({{"T", length}, {"op", t.op}, {"pass", pass}, {"rep", rep}, {"ms", ms}, {"status", "ok"},
                    {"est_bytes", estimated_bytes(t.op, s, length)},
                    {"peak_bytes", pass == std::string("forward") ? nlohmann::json() : nlohmann::json(peak)}});
    }
  }
}

}  // namespace

std::vector<Job> speed_jobs(const RunOptions&, const SpeedScale& s) {
  std::vector<Job> jobs;
  for (int64_t length : s.lengths) {
    // Cost in estimated single-thread seconds: attention's quadratic term dominates from a few
    // thousand tokens on.
    const double t = static_cast<double>(length) / 1024.0;
    jobs.push_back({"speed", "speed/T=" + std::to_string(length), 1 + 4 * t * t * s.repeats / 5.0,
                    [s, length](JobContext& ctx) { run_length(ctx, s, length); }});
  }
  return jobs;
}

}  // namespace ember::hyena
