#include "experiments/hybrid/tasks.h"

#include <map>
#include <mutex>

#include "experiments/common/loaders.h"
#include "experiments/common/text.h"
#include "experiments/common/transforms.h"
#include "experiments/hybrid/moving_mnist.h"
#include "tensor/error.h"

namespace ember::hybrid {
namespace {

constexpr uint64_t kSplitSeed = 1234;  // the data split is fixed: seeds vary models, not data
constexpr int64_t kMnistValidation = 2000;

experiments::Dataset mnist_digits(const std::filesystem::path& data) {
  const auto dir = data / "mnist";
  check(std::filesystem::exists(dir / "0.json"), "MNIST not found in ", dir.string(),
        " (run experiments/fetch_data.sh ", data.string(), ")");
  return experiments::load_mnist_digits(dir);
}

TaskData mnist_task(const std::filesystem::path& data) {
  // One mean and scale over all pixels of all digits, then the split.
  auto [train, val] = experiments::split(experiments::standardize(mnist_digits(data), false), kMnistValidation,
                                         kSplitSeed);
  TaskData t{.input = {.kind = "image", .size = 28, .frames = 0, .num_classes = 10}};
  std::tie(t.train_x, t.train_y) = experiments::to_tensors(train);
  std::tie(t.val_x, t.val_y) = experiments::to_tensors(val);
  return t;
}

// Digits halved to 14x14 and centred on a side x side canvas of zeros (side 28: the digits as
// they are); standardised after, as the full-size task.
TaskData small_mnist_task(const std::filesystem::path& data, int64_t side) {
  check(side >= 14 && side <= 28, "image side ", side, " is outside 14 .. 28");
  experiments::Dataset digits = mnist_digits(data);
  if (side < 28) {
    const experiments::Dataset half = experiments::downsample(digits, 2);
    const int64_t offset = (side - 14) / 2, n = half.size();
    digits.sample_shape = {1, side, side};
    digits.x.assign(static_cast<size_t>(n * side * side), 0.0f);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t y = 0; y < 14; ++y)
        for (int64_t x = 0; x < 14; ++x)
          digits.x[static_cast<size_t>((i * side + y + offset) * side + x + offset)] =
              half.x[static_cast<size_t>((i * 14 + y) * 14 + x)];
  }
  auto [train, val] = experiments::split(experiments::standardize(digits, false), kMnistValidation, kSplitSeed);
  TaskData t{.input = {.kind = "image", .size = side, .frames = 0, .num_classes = 10}};
  std::tie(t.train_x, t.train_y) = experiments::to_tensors(train);
  std::tie(t.val_x, t.val_y) = experiments::to_tensors(val);
  return t;
}

TaskData text_task(const std::filesystem::path& data, const TaskSizes& s) {
  const auto dir = data / "brown";
  check(std::filesystem::exists(dir / "cats.txt"), "the Brown corpus not found in ", dir.string(),
        " (run experiments/fetch_data.sh ", data.string(), ")");
  const auto corpus = experiments::load_brown(dir);
  const auto train = experiments::labelled_chunks(corpus, experiments::Split::train, s.text_length,
                                                  s.text_chunks_per_document);
  const auto val = experiments::labelled_chunks(corpus, experiments::Split::validation, s.text_length,
                                                s.text_chunks_per_document);
  TaskData t{.input = {.kind = "text", .size = s.text_length, .frames = 0,
                       .num_classes = static_cast<int64_t>(corpus.labels.size())}};
  std::tie(t.train_x, t.train_y) = train.to_tensors();
  std::tie(t.val_x, t.val_y) = val.to_tensors();
  return t;
}

TaskData video_task(const std::filesystem::path& data, const TaskSizes& s) {
  // Raw intensities in [0, 1] (an empty canvas is 0), digits halved to 14x14.
  auto [train, val] = experiments::split(experiments::downsample(mnist_digits(data), 2), kMnistValidation, kSplitSeed);
  const MovingMnistOptions clip{.clips = s.video_train};
  auto train_set = moving_mnist(train, clip, kSplitSeed);
  auto val_set = moving_mnist(val, {.clips = s.video_val}, kSplitSeed + 1);
  return {.input = {.kind = "video", .size = clip.canvas, .frames = clip.frames, .num_classes = clip.directions},
          .train_x = train_set.clips,
          .train_y = train_set.labels,
          .val_x = val_set.clips,
          .val_y = val_set.labels};
}

}  // namespace

const TaskData& load_task(const std::string& task, const std::filesystem::path& data, const TaskSizes& sizes) {
  static std::mutex mutex;
  static std::map<std::string, TaskData> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  const std::string key = task + "|" + data.string() + "|" + std::to_string(sizes.text_length) + "|" +
                          std::to_string(sizes.text_chunks_per_document) + "|" + std::to_string(sizes.video_train) +
                          "|" + std::to_string(sizes.video_val) + "|" + std::to_string(sizes.image_side);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (task == "mnist") return cache[key] = mnist_task(data);
  if (task == "mnist-small") return cache[key] = small_mnist_task(data, sizes.image_side);
  if (task == "text") return cache[key] = text_task(data, sizes);
  if (task == "video") return cache[key] = video_task(data, sizes);
  fail("unknown task '", task, "' (mnist, mnist-small, text, video)");
}

}  // namespace ember::hybrid
