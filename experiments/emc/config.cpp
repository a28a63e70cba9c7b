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
    // Four claims at fair budgets rather than all at unfair ones: every probe gets 300
    // epochs, 5 seeds per measurement. A 3k-parameter MLP on 14x14 MNIST keeps n (and so
    // the cost of an epoch) in the hundreds.
    s.name = "quick";
    s.studies = {"cover", "labels", "activation", "optimizers"};
    s.seeds = 5;
    s.epochs = 2000;
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
  s.name = mode == experiments::Mode::Standard ? "standard" : "full";
  s.studies = {"cover", "data", "labels", "classes", "architectures", "width-depth", "activation", "optimizers",
               "generalisation"};
  s.seeds = 5;
  s.epochs = 300;
  s.max_n = 8000;
  s.mlp = mlp({16});
  s.cnn = cnn({4, 8});
  s.data_model = mlp({8});
  s.deep_mlp = mlp({16, 16, 16});
  s.wide_mlp = mlp({19});  // 3943 parameters against the deep MLP's 3866
  s.label_models = {s.mlp, s.cnn};
  s.optimizers = {"sgd", "gd", "adam", "adamw", "shampoo"};
  s.mlp_sizes = {mlp({4}), mlp({8}), mlp({16})};
  s.cnn_sizes = {cnn({2, 4}), cnn({4, 8})};
  s.vit_sizes = {vit(8, 1), vit(16, 1)};
  s.generalisation_models = {mlp({4}),       mlp({8}),        mlp({16}),      mlp({32}),   mlp({8}, "tanh"),
                             mlp({16}, "tanh"), mlp({8, 8}),  mlp({16, 16}), cnn({2, 4}), cnn({4, 8})};
  if (mode == experiments::Mode::Full) {
    s.seeds = 8;
    s.epochs = 1000;
    s.downsample = 1;
    s.max_n = 9000;
    s.mlp = mlp({64});
    s.cnn = cnn({8, 16});
    s.label_models = {s.mlp, s.cnn};
    s.mlp_sizes = {mlp({16}), mlp({32}), mlp({64}), mlp({128})};
    s.cnn_sizes = {cnn({4, 8}), cnn({8, 16}), cnn({16, 32})};
    s.vit_sizes = {vit(16, 1), vit(32, 2), vit(64, 2)};
  }
  return s;
}

}  // namespace ember::emc
