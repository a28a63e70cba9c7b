// The hybrid program's models and options: the text encoder twins train on a tiny batch, the
// layouts of the balance study hold the same parameters, the video models take clips, the named
// image hybrids take small MNIST, and bad options (a Swin window that does not divide the image)
// give clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "autograd/ops.h"
#include "experiments/hybrid/families.h"
#include "experiments/hybrid/measure.h"
#include "experiments/hybrid/program.h"
#include "nn/models/text_encoder.h"
#include "nn/models/video.h"
#include "optim/adam.h"
#include "tensor/creation.h"
#include "tensor/error.h"
#include "tensor/random.h"

using namespace ember;
using namespace ember::hybrid;

namespace {

// Two classes of generated text: runs of 'a'/'b' against runs of 'x'/'y'.
std::pair<Tensor, Tensor> toy_text(int64_t n, int64_t length) {
  std::vector<int64_t> tokens, labels;
  for (int64_t i = 0; i < n; ++i) {
    labels.push_back(i % 2);
    for (int64_t t = 0; t < length; ++t) tokens.push_back(i % 2 ? 'x' + (t + i) % 2 : 'a' + (t * i) % 2);
  }
  return {from_vector(tokens, {n, length}), from_vector(labels, {n})};
}

double train_loss_drop(nn::Module& model, const Tensor& x, const Tensor& y, int steps) {
  AdamW opt(model.parameters(), {.lr = 3e-3});
  double first = 0, last = 0;
  for (int s = 0; s < steps; ++s) {
    Tensor loss = cross_entropy(model(x), y);
    (s == 0 ? first : last) = loss.item();
    opt.zero_grad();
    backward(loss);
    opt.step();
  }
  return first - last;
}

}  // namespace

TEST(HybridModels, TextTwinsTrainOnATinyBatch) {
  const auto [x, y] = toy_text(8, 16);
  for (const char* layout : {"CCAA", "AAAA"}) {
    manual_seed(1);
    nn::TextEncoder model({.max_length = 16, .d_model = 16, .n_heads = 2, .layout = layout, .conv_kernel = 3});
    EXPECT_EQ(model(x).shape(), (Shape{8, 2}));
    const double drop = train_loss_drop(model, x, y, 30);
    EXPECT_GT(drop, 0.3) << layout;  // ln 2 = 0.69 at chance
  }
}

TEST(HybridModels, BalanceLayoutsHaveEqualParameters) {
  const InputSpec text{.kind = "text", .size = 32, .frames = 0, .num_classes = 15};
  const int64_t conv_first = parameter_count(*build_model("text-conv-first", 2, text));
  EXPECT_EQ(parameter_count(*build_model("text-attention-first", 2, text)), conv_first);
  EXPECT_EQ(parameter_count(*build_model("text-interleaved", 2, text)), conv_first);
  // The hybrid has fewer parameters than its all-attention twin: a conv mixer replaces 4 d^2.
  EXPECT_LT(conv_first, parameter_count(*build_model("text-transformer", 2, text)));
}

TEST(HybridModels, FamiliesSpanTenfoldParameters) {
  const InputSpec image{.kind = "image", .size = 28, .frames = 0, .num_classes = 10};
  for (const char* f : {"vit", "hybrid"}) {
    const double small = double(parameter_count(*build_model(f, 0, image)));
    const double large = double(parameter_count(*build_model(f, 3, image)));
    EXPECT_GT(large / small, 10) << f;
  }
}

TEST(HybridModels, VideoModelsClassifyClips) {
  const InputSpec video{.kind = "video", .size = 24, .frames = 8, .num_classes = 4};
  const Tensor clips = randn({2, 8, 1, 24, 24});
  for (const char* f : {"video-hybrid", "video-transformer"}) {
    auto model = build_model(f, 0, video);
    EXPECT_EQ((*model)(clips).shape(), (Shape{2, 4})) << f;
  }
}

TEST(HybridModels, BadOptionsGiveClearErrors) {
  const InputSpec image{.kind = "image", .size = 30, .frames = 0, .num_classes = 10};
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { build_model("resnet-9000", 0, image); }).find("unknown model family 'resnet-9000'"),
            std::string::npos);
  EXPECT_NE(message([&] { build_model("vit", 0, image); }).find("not a multiple of its patch size 4"),
            std::string::npos);
  EXPECT_NE(message([&] { build_model("text-hybrid", 0, image); }).find("reads text inputs, not image"),
            std::string::npos);
  EXPECT_NE(message([] { nn::TextEncoder({.layout = "CXA"}); }).find("layout letter 'X'"), std::string::npos);
  EXPECT_NE(message([] { nn::TextEncoder({.conv_kernel = 4}); }).find("kernel must be odd"), std::string::npos);
  EXPECT_NE(message([] { nn::VideoTransformer({.frames = 7}); }).find("not a multiple of the tubelet"),
            std::string::npos);
}

TEST(HybridModels, NamedHybridsTakeSmallMnist) {
  // 16x16, the named study's default side: every named family classifies it.
  const InputSpec image{.kind = "image", .size = 16, .frames = 0, .num_classes = 10};
  const Tensor x = randn({2, 1, 16, 16});
  for (const char* f : {"coatnet", "mobilevit", "swin", "ladder-vit", "ladder-cnn"}) {
    manual_seed(3);
    auto model = build_model(f, 0, image);
    EXPECT_EQ((*model)(x).shape(), (Shape{2, 10})) << f;
  }
}

TEST(HybridModels, SwinWindowThatDoesNotDivideTheImageIsAClearError) {
  // 20x20: Swin's 2x2 patches give a 10x10 map that neither window 7 nor 4 divides. Through the
  // program's flag the run stops before any job, naming the flag, the family and the window.
  auto p = program();
  std::string a0 = "hybrid", a1 = "--quick", a2 = "--image-side", a3 = "20", a4 = "--out",
              a5 = (std::filesystem::temp_directory_path() / "hybrid_side_test").string();
  std::vector<char*> argv = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), a5.data()};
  std::ostringstream log;
  testing::internal::CaptureStderr();
  const int rc = experiments::run_program(p, static_cast<int>(argv.size()), argv.data(), log);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("--image-side 20: family swin"), std::string::npos) << err;
  EXPECT_NE(err.find("window 4 does not divide"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(a5 + "/REPORT.md"));
}

TEST(HybridModels, MetersReadTheEngine) {
  const Tensor a = randn({4, 8}), b = randn({8, 3});
  EXPECT_DOUBLE_EQ(count_flops([&] { matmul(a, b); }), 2.0 * 4 * 8 * 3);
  // 1,000 floats allocated (and freed) inside the work: at least their 4,000 bytes above before.
  const double peak = peak_bytes(Device::cpu(), [] { const Tensor t = zeros({1000}); });
  EXPECT_GE(peak, 4000);
  EXPECT_LT(peak, 4000 + 4096);  // an allocator's rounding at most
}
