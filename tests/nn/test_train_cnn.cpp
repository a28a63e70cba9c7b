// End to end: a small CNN built by nn::CNN learns to tell noisy 12x12 images of a horizontal
// bar, a vertical bar and a cross apart, trained by SGD with momentum.
#include <chrono>

#include "nn/nn.h"
#include "optim/sgd.h"
#include "tests/testing.h"

namespace ember {
namespace {

constexpr int64_t kSide = 12;

struct Dataset {
  Tensor images;  // [N, 1, 12, 12]
  Tensor labels;  // [N] i64: 0 horizontal bar, 1 vertical bar, 2 cross
};

// Bars two pixels thick at random rows / columns, of random length, on Gaussian noise.
Dataset make_bars_and_crosses(int64_t n, double noise) {
  std::vector<int64_t> pos = randint(0, kSide - 1, {n, 2}).to_vector<int64_t>();
  std::vector<int64_t> start = randint(0, 4, {n, 2}).to_vector<int64_t>();
  std::vector<float> pixels = (randn({n, kSide * kSide}) * noise).to_vector<float>();
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 3;
    labels[static_cast<size_t>(i)] = label;
    float* img = pixels.data() + i * kSide * kSide;
    const int64_t row = pos[static_cast<size_t>(2 * i)], col = pos[static_cast<size_t>(2 * i + 1)];
    for (int64_t t = 0; t < 2; ++t) {
      for (int64_t k = start[static_cast<size_t>(2 * i)]; k < kSide - 2; ++k)
        if (label != 1) img[(row + t) * kSide + k] += 1.0f;
      for (int64_t k = start[static_cast<size_t>(2 * i + 1)]; k < kSide - 2; ++k)
        if (label != 0) img[k * kSide + col + t] += 1.0f;
    }
  }
  return {from_vector(pixels, {n, 1, kSide, kSide}), from_vector(labels, {n})};
}

double accuracy(nn::Module& model, const Dataset& data) {
  NoGradGuard no_grad;
  model.eval();
  Tensor predicted = argmax(model(data.images), 1);
  model.train();
  return mean(to(eq(predicted, data.labels), DType::F32)).item();
}

TEST(TrainCNN, LearnsBarsAndCrosses) {
  manual_seed(0);
  const auto start = std::chrono::steady_clock::now();
  const Dataset train = make_bars_and_crosses(300, 0.5);
  auto model = nn::CNN({.in_channels = 1, .channels = {8, 16}, .num_classes = 3});
  const double before = accuracy(*model, train);
  SGD opt(model->parameters(), {.lr = 0.1, .momentum = 0.9});
  const int64_t batch = 30;
  double loss_value = 0;
  for (int epoch = 0; epoch < 30; ++epoch) {
    for (int64_t b = 0; b < train.labels.size(0); b += batch) {
      Tensor x = narrow(train.images, 0, b, batch), y = narrow(train.labels, 0, b, batch);
      Tensor loss = cross_entropy(model->forward(x), y);
      opt.zero_grad();
      backward(loss);
      opt.step();
      loss_value = loss.item();
    }
  }
  const double after = accuracy(*model, train);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "accuracy " << before << " -> " << after << ", last loss " << loss_value << ", " << seconds << " s\n";
  EXPECT_GT(after, 0.9);
  const Dataset test = make_bars_and_crosses(150, 0.5);
  EXPECT_GT(accuracy(*model, test), 0.85);
}

}  // namespace
}  // namespace ember
