#include "experiments/emc/config.h"

namespace ember::emc {
namespace {

ModelSpec mlp(std::vector<int64_t> widths, std::string activation = "relu") {
  return {.arch = "mlp", .widths = std::move(widths), .depth = 1, .activation = std::move(activation)};
}
ModelSpec cnn(std::vector<int64_t> widths, int64_t depth = 1) {
  return {.arch = "cnn", .widths = std::move(widths), .depth = depth, .activation = "relu"};
}
ModelSpec resnet(std::vector<int64_t> widths) {
  return {.arch = "resnet", .widths = std::move(widths), .depth = 1, .activation = "relu"};
}
ModelSpec vit(int64_t d_model, int64_t depth) {
  return {.arch = "vit", .widths = {d_model}, .depth = depth, .activation = "relu"};  // relu: the ViT's GELU
}

}  // namespace

Scale quick_scale() {
  Scale s;
  s.name = "quick";
  s.seeds = 2;
  s.image_downsample = 2;
  s.held_out = 1000;
  s.max_n = 9000;
  s.batch_size = 64;
  s.epochs = 200;
  s.min_steps = 600;
  s.max_steps = 1500;
  s.search = {.mode = SearchOptions::Mode::Bisection, .start = 32, .max_n = 0, .tolerance = 0.1, .grid_per_octave = 4};
  s.tune_divisor = 8;
  s.quick_lr_grid = true;
  s.generalisation_n = 512;
  s.mlp_reference = mlp({32});
  s.cnn_reference = cnn({8, 16});
  s.data_model = mlp({16});
  s.mlp_sizes = {mlp({8}), mlp({16}), mlp({32}), mlp({64})};
  s.cnn_sizes = {cnn({4, 8}), cnn({8, 16}), cnn({16, 32})};
  s.resnet_sizes = {resnet({2, 4}), resnet({4, 8})};
  s.vit_sizes = {vit(8, 1), vit(16, 1)};
  s.mlp_depths = {mlp({16}), mlp({16, 16}), mlp({16, 16, 16}), mlp({16, 16, 16, 16})};
  s.cnn_depths = {cnn({8, 16}, 1), cnn({8, 16}, 2)};
  s.generalisation_models = {mlp({8}), mlp({32}), mlp({32}, "tanh"), cnn({4, 8}), cnn({8, 16})};
  s.optimizer_archs = {"mlp"};
  s.architectures_semantic = false;
  return s;
}

Scale full_scale() {
  Scale s;
  s.name = "full";
  s.seeds = 3;
  s.image_downsample = 1;
  s.held_out = 1000;
  s.max_n = 9000;
  s.batch_size = 128;
  s.epochs = 200;
  s.min_steps = 500;
  s.max_steps = 8000;
  s.search = {.mode = SearchOptions::Mode::Bisection, .start = 64, .max_n = 0, .tolerance = 0.08, .grid_per_octave = 4};
  s.tune_divisor = 8;
  s.quick_lr_grid = false;
  s.generalisation_n = 1024;
  s.mlp_reference = mlp({64});
  s.cnn_reference = cnn({16, 32});
  s.data_model = mlp({32});
  s.mlp_sizes = {mlp({16}), mlp({32}), mlp({64}), mlp({128}), mlp({256})};
  s.cnn_sizes = {cnn({8, 16}), cnn({16, 32}), cnn({32, 64}), cnn({64, 128})};
  s.resnet_sizes = {resnet({4, 8, 16}), resnet({8, 16, 32}), resnet({16, 32, 64})};
  s.vit_sizes = {vit(16, 1), vit(32, 2), vit(64, 2)};
  s.mlp_depths = {mlp({32}), mlp({32, 32}), mlp({32, 32, 32}), mlp({32, 32, 32, 32})};
  s.cnn_depths = {cnn({16, 32}, 1), cnn({16, 32}, 2), cnn({16, 32}, 3)};
  s.generalisation_models = {mlp({16}),    mlp({64}),     mlp({256}),    mlp({64}, "tanh"),
                             cnn({8, 16}), cnn({16, 32}), cnn({32, 64}), resnet({8, 16, 32})};
  s.optimizer_archs = {"mlp", "cnn"};
  s.architectures_semantic = true;
  return s;
}

}  // namespace ember::emc
