// MNIST IDX reader (http://yann.lecun.com/exdb/mnist/ describes the format).
#include "experiments/common/binary_file.h"
#include "experiments/common/loaders.h"
#include "tensor/error.h"

namespace ember::experiments {

Dataset load_mnist_idx(const std::filesystem::path& images, const std::filesystem::path& labels) {
  const std::string img = read_file(images), lab = read_file(labels);
  uint32_t magic = read_be32(img, 0, images);
  check(magic == 0x00000803, images.string(), ": magic ", magic, " is not 2051 (unsigned-byte images, 3 dims)");
  magic = read_be32(lab, 0, labels);
  check(magic == 0x00000801, labels.string(), ": magic ", magic, " is not 2049 (unsigned-byte labels, 1 dim)");
  const int64_t n = read_be32(img, 4, images), rows = read_be32(img, 8, images), cols = read_be32(img, 12, images);
  const int64_t n_labels = read_be32(lab, 4, labels);
  check(n == n_labels, images.string(), " holds ", n, " images but ", labels.string(), " holds ", n_labels, " labels");
  // Three 32-bit sizes: their product may overflow int64 (a damaged header), checked.
  int64_t pixels = 0;
  const bool overflow = __builtin_mul_overflow(n, rows, &pixels) || __builtin_mul_overflow(pixels, cols, &pixels);
  check(!overflow && static_cast<int64_t>(img.size()) - 16 == pixels, images.string(), ": ", img.size(), " bytes for ",
        n, " images of ", rows, "x", cols);
  check(static_cast<int64_t>(lab.size()) == 8 + n, labels.string(), ": ", lab.size(), " bytes for ", n, " labels");

  Dataset d{.name = "mnist-idx", .sample_shape = {1, rows, cols}, .x = {}, .y = {}, .num_classes = 10};
  d.x.resize(static_cast<size_t>(pixels));
  for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = static_cast<unsigned char>(img[16 + i]) / 255.0f;
  d.y.resize(n);
  for (int64_t i = 0; i < n; ++i) d.y[i] = static_cast<unsigned char>(lab[8 + i]);
  validate(d);
  return d;
}

}  // namespace ember::experiments
