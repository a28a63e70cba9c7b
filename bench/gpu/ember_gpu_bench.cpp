// ember's side of the GPU benchmarks (bench/gpu/README.md). Prints one JSON object per case:
// {"case": name, "ms": median milliseconds, ...} with peak memory, TFLOP/s or parameter counts
// where they apply, or {"case": name, "error": message} when the case fails: one failing case
// never stops the others. torch_gpu_bench.py prints the same cases for PyTorch.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <cuda_profiler_api.h>

#include "autograd/ops.h"
#include "backends/cuda/cuda_device.h"
#include "bench/sampler.h"
#include "bench/timing.h"
#include "nn/nn.h"
#include "optim/optim.h"

#if __has_include("autograd/autocast.h")
#include "autograd/autocast.h"
#define EMBER_BENCH_HAVE_AUTOCAST 1
#endif

namespace ember {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void report(const std::string& name, const Fields& fields) {
  std::string line = "{\"case\": " + quoted(name);
  for (const auto& [key, value] : fields) line += ", " + quoted(key) + ": " + value;
  std::cout << line << "}" << std::endl;
}

double mib(size_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// What the last gpu_median_ms measured besides the median: the median time until fn returned
// to the host (the device may still be working then), so that host-bound cases show.
struct HostTime {
  double ms = 0;
} g_host;

// Where the timed repeats of each case write their call-stack samples (bench/sampler.h), when
// EMBER_BENCH_PROFILE names a file prefix; the case's name completes the file name.
std::string g_case;

// The median over repeats of fn with the device drained before and after each run (the timing
// rule of bench/timing.h), after warm-up. One probe run first sizes the repeats so that a slow
// case still ends within about `budget_s`.
double gpu_median_ms(const std::function<void()>& fn, int warmup, int max_repeats, double budget_s = 4) {
  cuda_synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  cuda_synchronize();
  const double probe_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const int repeats = std::clamp(static_cast<int>(budget_s * 1000 / std::max(probe_ms, 1e-3)), 3, max_repeats);
  for (int i = 1; i < warmup; ++i) {
    fn();
    cuda_synchronize();
  }
  if (std::getenv("EMBER_BENCH_NCU")) {  // one run inside the profiler's range (ncu --profile-from-start off)
    cudaProfilerStart();
    fn();
    cuda_synchronize();
    cudaProfilerStop();
  }
  std::unique_ptr<bench::Sampler> sampler;
  if (const char* prefix = std::getenv("EMBER_BENCH_PROFILE"))
    sampler = std::make_unique<bench::Sampler>(std::string(prefix) + g_case + ".stacks");
  std::vector<double> host;  // of the timed runs only: the warm-up ran above
  const double ms = bench::median_ms([] { cuda_synchronize(); }, [&] {
    const auto start = std::chrono::steady_clock::now();
    fn();
    host.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    cuda_synchronize();
  }, 0, repeats);
  if (sampler) sampler->stop();
  std::sort(host.begin(), host.end());
  g_host.ms = host[host.size() / 2];
  return ms;
}

Tensor on_gpu(const Tensor& t) { return to(t, Device::cuda()); }

Tensor random_gpu(const Shape& shape, DType dtype = DType::F32) {
  return randn(shape, {.dtype = dtype, .device = Device::cuda()});
}

// ---- 1. GPT-2 124M training step -------------------------------------------------------

constexpr int64_t kVocab = 50304, kContext = 1024, kBatch = 8;

nn::GPTOptions gpt2_small() {
  return {.vocab_size = kVocab,
          .context_length = kContext,
          .d_model = 768,
          .n_layers = 12,
          .n_heads = 12,
          .mlp_ratio = 4,
          .activation = "gelu_tanh",
          .dropout = 0,
          .tie_weights = true,
          .position_embedding = true};
}

void bench_gpt2(const std::string& name, bool bf16) {
  set_cuda_tf32(true);
#ifndef EMBER_BENCH_HAVE_AUTOCAST
  if (bf16) throw Error("autograd/autocast.h is not in this build: no bf16 autocast to measure");
#endif
  auto model = nn::GPT(gpt2_small());
  model->to(Device::cuda());
  AdamW adam(model->parameters(), AdamOptions{.lr = 6e-4, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1});
  const Tensor tokens = on_gpu(randint(0, kVocab, {kBatch, kContext}));
  const Tensor targets = on_gpu(randint(0, kVocab, {kBatch * kContext}));
  Tensor loss;
  auto step = [&] {
    adam.zero_grad();
    {
#ifdef EMBER_BENCH_HAVE_AUTOCAST
      AutocastGuard autocast(DType::BF16, bf16);
#endif
      const Tensor logits = model->forward(tokens);
      loss = cross_entropy(reshape(logits, {kBatch * kContext, kVocab}), targets);
    }
    backward(loss);
    adam.step();
  };
  step();  // the first step creates the optimizer state: outside the peak's reset
  cuda_synchronize();
  reset_cuda_peak_bytes_in_use();
  const double ms = gpu_median_ms(step, 3, 15);
  report(name, {{"ms", number(ms)},
                {"host_ms", number(g_host.ms)},
                {"peak_mib", number(mib(cuda_peak_bytes_in_use()))},
                {"params", std::to_string(model->num_parameters())},
                {"tokens_per_s", number(kBatch * kContext / (ms / 1000))},
                {"loss", number(loss.item())}});
}

// ---- 2. causal attention forward + backward ---------------------------------------------

constexpr int64_t kHeads = 16, kHeadDim = 64, kAttentionTokens = 16384;

void bench_attention(const std::string& name, int64_t length) {
  const int64_t batch = std::max<int64_t>(1, kAttentionTokens / length);
  const Shape shape = {batch, kHeads, length, kHeadDim};
  Tensor q = random_gpu(shape, DType::BF16), k = random_gpu(shape, DType::BF16), v = random_gpu(shape, DType::BF16);
  const Tensor grad = random_gpu(shape, DType::BF16);
  for (const Tensor& t : {q, k, v}) t.set_requires_grad();
  auto step = [&] {
    for (const Tensor& t : {q, k, v}) t.set_grad(Tensor());
    backward(scaled_dot_product_attention(q, k, v, /*causal=*/true), grad);
  };
  step();
  cuda_synchronize();
  reset_cuda_peak_bytes_in_use();
  const double ms = gpu_median_ms(step, 3, 30);
  // Causal: half of the 2 (QK^T) + 2 (PV) T^2 D forward products, and 2.5x that backward.
  const double flops = 3.5 * 2.0 * static_cast<double>(batch * kHeads * length * length * kHeadDim);
  report(name, {{"ms", number(ms)},
                {"host_ms", number(g_host.ms)},
                {"tflops", number(flops / (ms / 1000) / 1e12)},
                {"batch", std::to_string(batch)},
                {"peak_mib", number(mib(cuda_peak_bytes_in_use()))}});
}

// ---- 3. Hyena operator forward + backward ------------------------------------------------

constexpr int64_t kHyenaWidth = 768;

void bench_hyena(const std::string& name, int64_t length) {
  set_cuda_tf32(true);
  nn::HyenaOperator op(kHyenaWidth, length, nn::HyenaOptions{.order = 2});
  op.to(Device::cuda());
  Tensor u = random_gpu({1, length, kHyenaWidth});
  const Tensor grad = random_gpu({1, length, kHyenaWidth});
  u.set_requires_grad();
  auto step = [&] {
    op.zero_grad();
    u.set_grad(Tensor());
    backward(op.forward(u), grad);
  };
  step();
  cuda_synchronize();
  reset_cuda_peak_bytes_in_use();
  const double ms = gpu_median_ms(step, 3, 30);
  report(name, {{"ms", number(ms)},
                {"host_ms", number(g_host.ms)},
                {"peak_mib", number(mib(cuda_peak_bytes_in_use()))},
                {"params", std::to_string(op.num_parameters())}});
}

// ---- 4. GEMM 8192^3 ----------------------------------------------------------------------

constexpr int64_t kGemm = 8192;

void bench_gemm(const std::string& name, DType dtype) {
  set_cuda_tf32(dtype == DType::F32);
  const Tensor a = random_gpu({kGemm, kGemm}, dtype), b = random_gpu({kGemm, kGemm}, dtype);
  const double ms = gpu_median_ms([&] { matmul(a, b); }, 5, 50);
  const double flops = 2.0 * static_cast<double>(kGemm * kGemm * kGemm);
  report(name, {{"ms", number(ms)},
                {"host_ms", number(g_host.ms)}, {"tflops", number(flops / (ms / 1000) / 1e12)}});
}

struct Case {
  std::string name;
  std::function<void()> run;
};

std::vector<Case> all_cases() {
  return {
      {"gpt2_tf32", [] { bench_gpt2("gpt2_tf32", false); }},
      {"gpt2_bf16", [] { bench_gpt2("gpt2_bf16", true); }},
      {"attn_T1024", [] { bench_attention("attn_T1024", 1024); }},
      {"attn_T4096", [] { bench_attention("attn_T4096", 4096); }},
      {"attn_T16384", [] { bench_attention("attn_T16384", 16384); }},
      {"hyena_T4096", [] { bench_hyena("hyena_T4096", 4096); }},
      {"hyena_T16384", [] { bench_hyena("hyena_T16384", 16384); }},
      {"hyena_T65536", [] { bench_hyena("hyena_T65536", 65536); }},
      {"gemm_bf16_8192", [] { bench_gemm("gemm_bf16_8192", DType::BF16); }},
      {"gemm_tf32_8192", [] { bench_gemm("gemm_tf32_8192", DType::F32); }},
  };
}

}  // namespace
}  // namespace ember

int main(int argc, char** argv) {
  using namespace ember;
  std::vector<std::string> filters;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << "usage: ember_gpu_bench [--list] [--case NAME]...\n"
                   "  runs (--list: names) the cases whose names contain any NAME (default: all):\n ";
      for (const auto& c : all_cases()) std::cout << " " << c.name;
      std::cout << "\n";
      return 0;
    }
    if (arg == "--list") list = true;
    else if (arg == "--case" && i + 1 < argc) filters.push_back(argv[++i]);
    else if (arg.rfind("--case=", 0) == 0) filters.push_back(arg.substr(7));
    else {
      std::cerr << "ember_gpu_bench: unknown argument '" << arg << "' (see --help)\n";
      return 2;
    }
  }
  auto wanted = [&](const std::string& name) {
    return filters.empty() || std::any_of(filters.begin(), filters.end(), [&](const std::string& f) {
             return name.find(f) != std::string::npos;
           });
  };
  if (list) {
    for (const auto& c : all_cases())
      if (wanted(c.name)) std::cout << c.name << "\n";
    return 0;
  }
  if (!cuda_available()) {
    report("setup", {{"error", quoted("no usable CUDA device")}});
    return 1;
  }
  for (const auto& c : all_cases()) {
    if (!wanted(c.name)) continue;
    manual_seed(0);
    g_case = c.name;
    try {
      c.run();
    } catch (const std::exception& e) {
      report(c.name, {{"error", quoted(e.what())}});
    }
    set_cuda_tf32(false);
  }
}
