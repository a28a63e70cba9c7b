#include "experiments/emc/config.h"

namespace ember::emc {
namespace {

ModelSpec mlp(std::vector<int64_t> widths, std::string activation = "relu") {
  return {.arch = "mlp", .widths = std::move(widths), .depth = 1, .activation = std::move(activation)};
}
ModelSpec cnn(std::vector<int64_t> widths) { return {.arch = "cnn", .widths = std::move(widths), .depth = 1}; }
// The ViT sees 28x28 digits as 16 patches of 7x7 pixels.
ModelSpec vit(int64_t d_model, int64_t depth) { return {.arch = "vit", .widths = {d_model}, .depth = depth}; }

const ModelSpec kLinear{.arch = "linear", .widths = {}, .depth = 1};

}  // namespace

Scale scale_for(experiments::Mode mode) {
  Scale s;
  s.search = {.mode = SearchOptions::Mode::Bisection, .start = 64, .max_n = 0, .tolerance = 0.1, .grid_per_octave = 4};
  s.cover_model = kLinear;
  s.cover_dimensions = {10, 20, 40};
  if (mode == experiments::Mode::Quick) {
    // Four studies at fair budgets rather than all at unfair ones: 3,000 epochs a probe, 5
    // seeds per measurement, random labels only (semantic labels push n, and so the cost of
    // an epoch, up tenfold). A 490-parameter MLP on 7x7 MNIST keeps n near a hundred.
    s.name = "quick";
    s.studies = {"cover", "labels", "activation", "optimizers"};
    s.label_conditions = {"random labels", "Gaussian inputs, random labels"};
    s.seeds = 5;
    s.epochs = 3000;
    s.max_n = 4096;
    s.downsample = 4;
    s.mlp = mlp({8});
    s.cnn = cnn({4, 8});
    s.data_model = mlp({8});
    s.deep_mlp = mlp({16, 16, 16});
    s.wide_mlp = mlp({19});
    s.label_models = {s.mlp};
    s.optimizers = {"sgd", "gd"};
    return s;
  }
  // Standard: every study, 5 seeds, the quick budget (3,000 epochs still leaves most MLP
  // failures on random labels short of the plateau criterion, so less would decide nothing);
  // 7x7 MNIST except in the architectures study, where every model sees 28x28 digits (the ViT
  // as 16 patches of 7x7).
  s.name = mode == experiments::Mode::Standard ? "standard" : "full";
  s.studies = {"cover", "data", "labels", "classes", "architectures", "width-depth", "activation", "optimizers",
               "generalisation"};
  s.seeds = 5;
  s.epochs = 3000;
  s.downsample = 4;
  s.max_n = 4096;
  s.class_pool = 1500;
  s.mlp = mlp({8});
  s.cnn = cnn({4, 8});
  s.data_model = mlp({4});
  s.deep_mlp = mlp({8, 8, 8});
  s.wide_mlp = mlp({10});  // 610 parameters against the deep MLP's 634
  s.label_models = {s.mlp, s.cnn};
  s.optimizers = {"sgd", "gd", "adam", "adamw", "shampoo"};
  s.mlp_sizes = {mlp({1}), mlp({2}), mlp({4})};
  s.cnn_sizes = {cnn({2, 4}), cnn({4, 8})};
  s.vit_sizes = {vit(8, 1), vit(16, 1)};
  s.generalisation_models = {mlp({2}),       mlp({4}),        mlp({8}),    mlp({16}),   mlp({4}, "tanh"),
                             mlp({8}, "tanh"), mlp({4, 4}),   mlp({8, 8}), cnn({2, 4}), cnn({4, 8})};
  if (mode == experiments::Mode::Full) {
    s.seeds = 8;
    s.epochs = 10000;
    s.downsample = 2;
    s.max_n = 9000;
    s.mlp = mlp({16});
    s.cnn = cnn({8, 16});
    s.data_model = mlp({8});
    s.deep_mlp = mlp({16, 16, 16});
    s.wide_mlp = mlp({19});  // 3943 parameters against the deep MLP's 3866
    s.label_models = {s.mlp, s.cnn};
    s.mlp_sizes = {mlp({4}), mlp({8}), mlp({16})};
    s.cnn_sizes = {cnn({4, 8}), cnn({8, 16}), cnn({16, 32})};
    s.vit_sizes = {vit(16, 1), vit(32, 2), vit(64, 2)};
  }
  return s;
}

}  // namespace ember::emc
