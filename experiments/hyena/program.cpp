#include "experiments/hyena/program.h"

namespace ember::hyena {

using namespace experiments;

namespace {

SpeedScale speed_scale(Mode mode) {
  switch (mode) {
    case Mode::Quick: return {.d_model = 128, .lengths = {256, 512, 1024, 2048, 4096}, .repeats = 3, .byte_cap = 1.5e9};
    case Mode::Standard:
      return {.d_model = 128, .lengths = {256, 512, 1024, 2048, 4096, 8192, 16384}, .repeats = 5, .byte_cap = 2e9};
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
      s.seeds = 2;
      s.n_train = 1000, s.n_test = 200;
      s.train.steps = 300;
      return s;
    case Mode::Standard:
      s.tasks = {{.vocab_size = 20, .input_seq_len = 128}, {.vocab_size = 30, .input_seq_len = 512}};
      s.n_train = 2000, s.n_test = 500;
      s.train.steps = 1000;
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

}  // namespace

Scale scale_for(const RunOptions& o) { return {speed_scale(o.mode), recall_scale(o.mode)}; }

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
                  {"recall", "Does a 2-layer Hyena solve associative recall at long range where baselines fail?"}},
      .mode_help = {"short lengths and few seeds, about 10 minutes on 2 cores (verdicts inconclusive: too few replicates)",
                    "the CPU scale that decides the claims: lengths to 16K, recall to 512 tokens, 5 seeds; about 80 "
                    "CPU-minutes as jobs of at most 6 minutes (run sharded)",
                    "the GPU scale: d = 768 to 128K tokens in bf16, recall at 30K/64K/131K"}};
  p.plan = [](const RunOptions& o) {
    const Scale s = scale_for(o);
    std::vector<Job> jobs = speed_jobs(o, s.speed);
    for (auto& j : recall_jobs(o, s.recall)) jobs.push_back(std::move(j));
    return jobs;
  };
  p.report = [](const RunOptions& o, const Records& records, Report& report) {
    const Scale s = scale_for(o);
    auto rows = [&](const std::string& study) { return records.count(study) ? records.at(study) : std::vector<Record>{}; };
    if (o.runs("speed")) speed_report(rows("speed"), s.speed, report);
    if (o.runs("recall")) recall_report(rows("recall"), s.recall, report);
    report.untested("SuperGLUE few-shot (Hyena 153M/355M vs GPT)", "needs pretrained 100M+ models and the benchmark; no such data here");
    report.untested("ImageNet / CIFAR classification with Hyena in ViT", "a vision study; out of this program's scope and budget");
  };
  return p;
}

}  // namespace ember::hyena
