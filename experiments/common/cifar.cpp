// CIFAR-10 binary reader (https://www.cs.toronto.edu/~kriz/cifar.html describes the format).
#include "experiments/common/binary_file.h"
#include "experiments/common/loaders.h"
#include "tensor/error.h"

namespace ember::experiments {

Dataset load_cifar10_binary(const std::vector<std::filesystem::path>& files) {
  constexpr int64_t pixels = 3 * 32 * 32, record = 1 + pixels;
  check(!files.empty(), "load_cifar10_binary: no files given");
  Dataset d{.name = "cifar10", .sample_shape = {3, 32, 32}, .x = {}, .y = {}, .num_classes = 10};
  for (const auto& file : files) {
    const std::string bytes = read_file(file);
    check(!bytes.empty() && bytes.size() % record == 0, file.string(), ": ", bytes.size(),
          " bytes is not a whole number of ", record, "-byte records");
    for (size_t at = 0; at < bytes.size(); at += record) {
      d.y.push_back(static_cast<unsigned char>(bytes[at]));
      for (int64_t i = 1; i <= pixels; ++i) d.x.push_back(static_cast<unsigned char>(bytes[at + i]) / 255.0f);
    }
  }
  validate(d);
  return d;
}

}  // namespace ember::experiments
