#include "experiments/hybrid/program.h"

#include <CLI/CLI.hpp>
#include <memory>

#include "experiments/hybrid/sweep.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ember::hybrid {

using experiments::Job;
using experiments::JobContext;
using experiments::Mode;
using experiments::RunOptions;

Scale scale_of(Mode mode) {
  Scale s;
  if (mode == Mode::Quick) {
    s.sizes = {0, 1, 2};
    s.seeds = 2;
    s.image = {.steps = 120, .batch = 32, .evaluations = 2, .max_validation = 500, .target_error = 0.3};
    // No text training in quick mode: at 60 steps, and still at 150 steps with lr 3e-3, every
    // Brown-genre model stayed at the class prior (validation loss 2.51, error 0.80-0.84), so
    // its rows would only say "budget-limited" at a third of the quick mode's time.
    s.text_training = false;
    s.video = {.steps = 60, .batch = 32, .evaluations = 2, .max_validation = 256, .target_error = 0.3};
    s.task = {.text_length = 64, .text_chunks_per_document = 10, .video_train = 512, .video_val = 256};
    s.image_sides = {16, 32, 64};
    s.text_lengths = {64, 128, 256};
    s.repeats = 3;
    s.named_sizes = {0};
    s.named = {.steps = 120, .batch = 32, .evaluations = 2, .max_validation = 500, .target_error = 0.3};
  } else if (mode == Mode::Standard) {
    s.sizes = {0, 1, 2, 3};
    s.image = {.steps = 300, .batch = 64, .target_error = 0.1};
    s.text = {.steps = 300, .batch = 32, .target_error = 0.7};
    s.video = {.steps = 250, .batch = 32, .target_error = 0.1};
    s.image_sides = {16, 32, 64, 128};
    s.text_lengths = {64, 128, 256, 512};
    s.named_sizes = {0, 1, 2};
    // 400 steps left every named run still improving (shard 0 of 16, measured); 600 fits the budget.
    s.named = {.steps = 600, .batch = 32, .max_validation = 1000, .target_error = 0.15};
  } else {
    s.sizes = {0, 1, 2, 3, 4};
    s.image = {.steps = 3000, .batch = 128, .evaluations = 10, .target_error = 0.05};
    s.text = {.steps = 3000, .batch = 128, .evaluations = 10, .target_error = 0.6};
    s.video = {.steps = 2000, .batch = 128, .evaluations = 10, .target_error = 0.05};
    s.task = {.text_length = 128, .text_chunks_per_document = 0, .video_train = 8192, .video_val = 1024};
    s.image_sides = {16, 32, 64, 128, 256};
    s.text_lengths = {128, 256, 512, 1024, 2048};
    s.sweep_size = 2;
    s.repeats = 10;
    s.named_sizes = {0, 1, 2, 3, 4};
    s.named = {.steps = 3000, .batch = 128, .evaluations = 10, .target_error = 0.05};
  }
  return s;
}

namespace {

// One training run; its row carries the run's settings and measurements.
Job training_job(const std::string& study, const std::string& domain, const std::string& family, int size, int seed,
                 const Scale& scale, const RunOptions& options) {
  const std::string task = domain == "image" ? "mnist" : domain == "image-small" ? "mnist-small" : domain;
  const TrainSettings settings = domain == "image"         ? scale.image
                                 : domain == "image-small" ? scale.named
                                 : domain == "text"        ? scale.text
                                                           : scale.video;
  // Relative cost: width squared times blocks, times the steps and batch.
  const double cost = double(width_of(size) * width_of(size) * blocks_of(size)) * double(settings.steps * settings.batch) *
                      (domain == "text" ? double(scale.task.text_length) / 49 : 1.0) * (domain == "image-small" ? 4.0 : 1.0) * 1e-8;
  const std::string key = study + "/" + family + "/s" + std::to_string(size) + "/seed" + std::to_string(seed);
  return {study, key, cost, [=, &options](JobContext& ctx) {
            const TaskData& data = load_task(task, options.data, scale.task);
            const uint64_t run_seed = options.seed * 1000 + uint64_t(seed);
            manual_seed(run_seed);  // the same initial draws and batches for every family of a seed
            const nn::ModulePtr model = build_model(family, size, data.input);
            model->to(options.device);
            const RunResult r = train_run(*model, data, settings, run_seed);
            ctx.record({{"domain", domain},
                        {"family", family},
                        {"size", size},
                        {"seed", seed},
                        {"params", r.params},
                        {"flops_per_step", r.flops_per_step},
                        {"train_flops", r.train_flops},
                        {"peak_bytes", r.peak_bytes},
                        {"train_seconds", r.train_seconds},
                        {"seconds_to_target", r.seconds_to_target},
                        {"target_error", settings.target_error},
                        {"val_loss", r.val_loss},
                        {"val_error", r.val_error},
                        {"image_side", data.input.size},
                        {"still_improving", r.still_improving}});
          }};
}

Job sweep_job(const std::string& domain, const std::string& family, int64_t length, const Scale& scale,
              const RunOptions& options) {
  const InputSpec input = domain == "image" ? InputSpec{.kind = "image", .size = length, .frames = 0, .num_classes = 10}
                                            : InputSpec{.kind = "text", .size = length, .frames = 0, .num_classes = 15};
  // Sequence length: pixels for images (the tokens of both families grow with them), bytes for text.
  const int64_t tokens = domain == "image" ? length * length : length;
  return {"length", "length/" + family + "/" + std::to_string(length), double(tokens) * 1e-4,
          [=, &options](JobContext& ctx) {
            const StepCost c = measure_step(family, scale.sweep_size, input, scale.sweep_batch, scale.repeats,
                                            options.seed);
            for (size_t r = 0; r < c.seconds.size(); ++r)
              ctx.record({{"domain", domain},
                          {"family", family},
                          {"length", tokens},
                          {"repeat", r},
                          {"params", c.params},
                          {"flops", c.flops},
                          {"peak_bytes", c.peak_bytes},
                          {"seconds", c.seconds[r]}});
          }};
}

std::vector<Job> plan(const RunOptions& options, int64_t image_side) {
  Scale scale = scale_of(options.mode);
  scale.task.image_side = image_side;
  std::vector<Job> jobs;
  for (int seed = 0; seed < scale.seeds; ++seed)
    for (int size : scale.sizes) {
      for (const char* f : {"vit", "hybrid"}) jobs.push_back(training_job("scaling", "image", f, size, seed, scale, options));
      if (scale.text_training)
        for (const char* f : {"text-transformer", "text-hybrid"})
          jobs.push_back(training_job("scaling", "text", f, size, seed, scale, options));
    }
  for (int64_t side : scale.image_sides)
    for (const char* f : {"vit", "hybrid"}) jobs.push_back(sweep_job("image", f, side, scale, options));
  for (int64_t length : scale.text_lengths)
    for (const char* f : {"text-transformer", "text-hybrid"}) jobs.push_back(sweep_job("text", f, length, scale, options));
  for (int seed = 0; seed < scale.seeds; ++seed) {
    jobs.push_back(training_job("systems", "image", "cnn", scale.systems_size, seed, scale, options));
    for (const char* f : {"video-transformer", "video-hybrid"})
      jobs.push_back(training_job("systems", "video", f, scale.systems_size, seed, scale, options));
    if (scale.text_training)
      for (const char* f : {"text-conv-first", "text-attention-first", "text-interleaved"})
        jobs.push_back(training_job("balance", "text", f, scale.balance_size, seed, scale, options));
  }
  for (int seed = 0; seed < scale.seeds; ++seed)
    for (int size : scale.named_sizes)
      for (const char* f : {"coatnet", "ladder-vit", "mobilevit", "ladder-cnn", "swin"})
        jobs.push_back(training_job("named", "image-small", f, size, seed, scale, options));
  return jobs;
}

// --image-side: every named family must take it (the Swin's window must divide its stage maps,
// the ViT's patch the side).
void check_image_side(int64_t side) {
  check(side >= 14 && side <= 28, "--image-side ", side, " is outside 14 .. 28");
  const InputSpec input{.kind = "image", .size = side, .frames = 0, .num_classes = 10};
  for (const char* f : {"coatnet", "ladder-vit", "mobilevit", "ladder-cnn", "swin"}) {
    try {
      build_model(f, 0, input);
    } catch (const Error& e) {
      fail("--image-side ", side, ": family ", f, " cannot take ", side, "x", side, " images: ", e.what());
    }
  }
}

}  // namespace

experiments::Program program() {
  experiments::Program p;
  p.info = {
      .name = "hybrid",
      .title = "do CNN-Transformer hybrids scale better than pure Transformers?",
      .source = "the project's survey of CNN-Transformer hybrids (GitHub issue: scaling laws, efficiency, the named "
                "hybrid systems); its numbers come without a method",
      .description =
          "Trains hybrid and pure-Transformer families of 3-5 sizes on MNIST, Brown-corpus genres and a synthetic "
          "moving-MNIST, measures parameters, counted training FLOPs, peak memory and wall time, fits saturating "
          "power laws and reads off what the hybrid needs to reach the Transformer's quality; sweeps the sequence "
          "length for the cost exponents; compares the named systems and the order of conv and attention blocks. "
          "Writes <study>.csv, summary.json, PNG plots and REPORT.md.",
      .studies = {{"scaling", "do hybrids need fewer parameters, FLOPs, memory and time for the Transformer's quality, "
                              "at every size?"},
                  {"length", "how do compute, memory and time grow with the sequence length?"},
                  {"systems", "do the named hybrid systems beat their counterparts at small scale?"},
                  {"balance", "conv first, attention first or interleaved, at equal parameters?"},
                  {"named", "do mini CoAtNet, MobileViT and Swin keep their edge over a ViT / CNN of the same size?"}},
      .mode_help = {"3 sizes, 2 seeds, short training, no text training: about 7 minutes on one core; its verdicts "
                    "are inconclusive (fewer than 5 seeds)",
                    "4 sizes, 5 seeds: about 72 CPU-minutes in 201 jobs of at most about 70 s each (run it sharded)",
                    "5 sizes, 5 seeds, long training, longer sequences: for --device cuda"}};
  // The flag's value, shared by the callbacks of this program object.
  auto image_side = std::make_shared<int64_t>(16);
  p.add_flags = [image_side](CLI::App& app) {
    app.add_option("--image-side", *image_side,
                   "side of the named image hybrids' MNIST (study 'named'): 14x14 digits centred on this canvas, "
                   "14..28 (28: full digits); the Swin's window and the ViT's patch must divide it")
        ->capture_default_str();
  };
  p.validate = [image_side](const RunOptions&) { check_image_side(*image_side); };
  p.plan = [image_side](const RunOptions& options) { return plan(options, *image_side); };
  p.report = write_report;
  return p;
}

}  // namespace ember::hybrid
