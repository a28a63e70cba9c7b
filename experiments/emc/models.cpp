#include "experiments/emc/models.h"

#include "nn/nn.h"

namespace ember::emc {

std::string ModelSpec::name() const {
  if (arch == "linear") return arch;
  std::string out = arch + "[";
  for (size_t i = 0; i < widths.size(); ++i) out += (i ? "," : "") + std::to_string(widths[i]);
  out += "]";
  if (depth != 1) out += "x" + std::to_string(depth);
  if (activation != "relu") out += "-" + activation;
  return out;
}

nn::ModulePtr build_model(const ModelSpec& spec, const Shape& sample_shape, int64_t num_classes) {
  if (spec.arch == "mlp" || spec.arch == "linear") {
    auto mlp = nn::MLP({.in_features = numel_of(sample_shape),
                        .hidden = spec.arch == "linear" ? std::vector<int64_t>{} : spec.widths,
                        .out_features = num_classes,
                        .activation = spec.activation});
    if (sample_shape.size() == 1) return mlp;
    return std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{std::make_shared<nn::Flatten>(), mlp});
  }
  check(!spec.widths.empty() && spec.depth >= 1, "build_model: ", spec.name(), ": needs widths and depth >= 1");
  check(sample_shape.size() == 3, "build_model: ", spec.name(), " needs image samples [C, H, W], not ", sample_shape);
  if (spec.arch == "cnn") {
    // Conv-BN-activation: without batch norm these small CNNs train erratically (a third of
    // the seeds fail to fit 32 MNIST digits at the learning rate that suits the rest).
    return nn::CNN({.in_channels = sample_shape[0],
                    .channels = spec.widths,
                    .convs_per_stage = spec.depth,
                    .num_classes = num_classes,
                    .activation = spec.activation,
                    .batch_norm = true});
  }
  if (spec.arch == "resnet") {
    for (size_t i = 1; i < spec.widths.size(); ++i)
      check(spec.widths[i] == spec.widths[0] << i, "build_model: ", spec.name(),
            ": ResNet stage widths double from stage to stage");
    return std::make_shared<nn::ResNet>(
        nn::ResNetOptions{.in_channels = sample_shape[0],
                          .num_classes = num_classes,
                          .base_width = spec.widths[0],
                          .blocks_per_stage = std::vector<int64_t>(spec.widths.size(), spec.depth),
                          .activation = spec.activation});
  }
  if (spec.arch == "vit") {
    // Patches of 7x7 pixels (4 tokens at 14x14, 16 at 28x28), two heads, GELU MLPs of 2x width.
    check(spec.widths.size() == 1 && spec.widths[0] % 2 == 0, "build_model: ", spec.name(),
          ": a ViT takes one even width, its d_model");
    check(sample_shape[1] == sample_shape[2] && sample_shape[1] % 7 == 0, "build_model: ", spec.name(),
          ": a ViT needs square images whose side is a multiple of 7, not ", sample_shape);
    return std::make_shared<nn::ViT>(nn::ViTOptions{.image_size = sample_shape[1],
                                                    .in_channels = sample_shape[0],
                                                    .patch_size = 7,
                                                    .d_model = spec.widths[0],
                                                    .depth = spec.depth,
                                                    .n_heads = 2,
                                                    .num_classes = num_classes,
                                                    .mlp_ratio = 2,
                                                    .activation = spec.activation == "relu" ? "gelu" : spec.activation});
  }
  fail("build_model: architecture '", spec.arch, "' is not available in this build");
}

int64_t count_parameters(const ModelSpec& spec, const Shape& sample_shape, int64_t num_classes) {
  return build_model(spec, sample_shape, num_classes)->num_parameters();
}

}  // namespace ember::emc
