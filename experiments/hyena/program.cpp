#include "experiments/hyena/program.h"

namespace ember::hyena {

using namespace experiments;

namespace {

SpeedScale speed_scale(Mode mode) {
  switch (mode) {
    case Mode::Quick: return {.d_model = 128, .lengths = {256, 512, 1024, 2048, 4096}, .repeats = 3, .byte_cap = 1.5e9};
    case Mode::Standard:
      // Fused attention's forward + backward at 16K takes about a minute a replicate on one
      // core: 8K is the longest that fits a 6-minute job with 5 replicates.
      return {.d_model = 128, .lengths = {256, 512, 1024, 2048, 4096, 8192}, .repeats = 5, .byte_cap = 3e9};
    case Mode::Full: break;
  }
  std::vector<int64_t> lengths;
  for (int64_t t = 1024; t <= 131072; t *= 2) lengths.push_back(t);
  return {.d_model = 768, .lengths = lengths, .repeats = 10, .byte_cap = 60e9};
}

RecallScale recall_scale(Mode mode) {
  RecallScale s;
  switch (mode) {
    case Mode::Quick:
      s.tasks = {{.vocab_size = 10, .input_seq_len = 64}};
      s.seeds = 1;
      s.n_train = 1000, s.n_test = 200;
      s.train.steps = 300, s.train.batch = 16, s.train.lr = 3e-3;
      return s;
    case Mode::Standard:
      // Training, not the length, is what the CPU cannot afford: one core runs about 10 steps
      // a second at 64 tokens, and the reference trains 25,000 steps; a short task with 1000
      // steps is what fits 6-minute jobs.
      s.tasks = {{.vocab_size = 10, .input_seq_len = 64}};
      s.n_train = 2000, s.n_test = 500;
      s.train.steps = 1000, s.train.batch = 16, s.train.lr = 3e-3;
      return s;
    case Mode::Full: break;
  }
  s.tasks = {{.vocab_size = 30, .input_seq_len = 1024}, {.vocab_size = 30, .input_seq_len = 30000},
             {.vocab_size = 30, .input_seq_len = 65536}, {.vocab_size = 30, .input_seq_len = 131072}};
  s.n_train = 4000, s.n_test = 500;
  s.train.steps = 20000;
  s.train.batch = 16;
  s.attention_max_length = 8192;
  return s;
}

LMScale lm_scale(Mode mode) {
  LMScale s;
  switch (mode) {
    case Mode::Quick:
      s.sizes = {{"xs", 32, 1}, {"s", 48, 2}, {"m", 64, 2}};
      s.seeds = 1;
      s.context = 128;
      s.train.steps = 200, s.train.batch = 16, s.train.lr = 2e-3, s.train.weight_decay = 0.01;
      s.evals = 6, s.validation_windows = 32;
      return s;
    case Mode::Standard:
      s.sizes = {{"xs", 32, 2}, {"s", 48, 2}, {"m", 64, 3}};
      s.context = 128;
      s.train.steps = 300, s.train.batch = 16, s.train.lr = 2e-3, s.train.weight_decay = 0.01;
      s.evals = 10, s.validation_windows = 64;
      return s;
    case Mode::Full: break;
  }
  s.sizes = {{"s", 256, 4}, {"m", 384, 6}, {"l", 512, 8}};
  s.context = 1024;
  s.train.steps = 4000, s.train.batch = 32, s.train.lr = 1e-3, s.train.weight_decay = 0.1;
  s.evals = 20, s.validation_windows = 256;
  return s;
}

}  // namespace

Scale scale_for(const RunOptions& o) { return {speed_scale(o.mode), recall_scale(o.mode), lm_scale(o.mode)}; }

Program hyena_program() {
  Program p;
  p.info = {
      .name = "hyena",
      .title = "Is Hyena a subquadratic drop-in for attention? (speed, recall, language modelling)",
      .source = "Poli et al. 2023, \"Hyena Hierarchy: Towards Larger Convolutional Language Models\" (ICML 2023, "
                "arXiv 2302.10866; reference code HazyResearch/safari)",
      .description = "Times one Hyena operator against fused and standard attention over doubling lengths, trains "
                     "2-layer Hyena, attention, ungated long-convolution and explicit-filter models on associative "
                     "recall, and trains byte-level GPT and Hyena LMs of several sizes counting their FLOPs. Writes "
                     "<study>.csv, summary.json, PNG plots and REPORT.md.",
      .studies = {{"speed", "Is Hyena faster than attention beyond a crossover length (2x at 8K, 100x at 64K)?"},
                  {"recall", "Does a 2-layer Hyena solve associative recall at long range where baselines fail?"},
                  {"lm", "Does a Hyena LM reach GPT's validation loss with fewer training FLOPs?"}},
      .mode_help = {"short lengths and few seeds, about 10 minutes on 2 cores (verdicts inconclusive: too few replicates)",
                    "the CPU scale that decides the claims: lengths to 8K, recall at 64 tokens, 5 seeds; about 80 "
                    "CPU-minutes as jobs of at most 6 minutes (run sharded)",
                    "the GPU scale: d = 768 to 128K tokens in bf16, recall at 30K/64K/131K"}};
  p.plan = [](const RunOptions& o) {
    const Scale s = scale_for(o);
    std::vector<Job> jobs = speed_jobs(o, s.speed);
    for (auto& j : recall_jobs(o, s.recall)) jobs.push_back(std::move(j));
    for (auto& j : lm_jobs(o, s.lm)) jobs.push_back(std::move(j));
    return jobs;
  };
  p.report = [](const RunOptions& o, const Records& records, Report& report) {
    const Scale s = scale_for(o);
    auto rows = [&](const std::string& study) { return records.count(study) ? records.at(study) : std::vector<Record>{}; };
    if (o.runs("speed")) speed_report(rows("speed"), s.speed, report);
    if (o.runs("recall")) recall_report(rows("recall"), s.recall, report);
    if (o.runs("lm")) lm_report(rows("lm"), s.lm, report);
    const bool gpu = o.device.type == DeviceType::CUDA;
    report.scale_note("Speed: one operator at d = " + std::to_string(s.speed.d_model) + (gpu ? " in bf16" : " in f32 on the CPU") +
                      " up to T = " + std::to_string(s.speed.lengths.back()) +
                      "; the paper: d = 768 on an A100 in half precision to 128K, against FlashAttention and PyTorch attention.");
    report.scale_note("Recall: at most " + std::to_string(s.recall.train.steps) + " steps of batch " +
                      std::to_string(s.recall.train.batch) + " at lengths up to " +
                      std::to_string(s.recall.tasks.back().input_seq_len) +
                      "; the paper: 400 epochs of 2000-4000 examples (batch 32) at 30K-131K tokens.");
    report.scale_note("Language modelling: byte-level models of " + std::to_string(s.lm.sizes.front().d_model) + " to " +
                      std::to_string(s.lm.sizes.back().d_model) + " wide on the KJV Bible, context " +
                      std::to_string(s.lm.context) + ", " + std::to_string(s.lm.train.steps) +
                      " steps; the paper: 125M-355M models on The Pile (BPE), context 2K, to 4.77e19 FLOPs.");
    report.untested("SuperGLUE few-shot (Hyena 153M/355M vs GPT)", "needs pretrained 100M+ models and the benchmark; no such data here");
    report.untested("ImageNet / CIFAR classification with Hyena in ViT", "a vision study; out of this program's scope and budget");
  };
  return p;
}

}  // namespace ember::hyena
