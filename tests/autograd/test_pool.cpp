// Pooling: gradients (random inputs, so max windows have no ties), forward values by hand,
// and the errors.
#include <cmath>
#include <string>

#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

void expect_error(const std::function<void()>& f, const std::string& text) {
  try {
    f();
    FAIL() << "expected an error containing: " << text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

// 0..15 as a 4x4 image.
Tensor ramp4x4(DType dtype = DType::F32) { return reshape(arange(0, 16, 1, {.dtype = dtype}), {1, 1, 4, 4}); }

TEST(MaxPool2d, Gradients) {
  EXPECT_GRADCHECK([](const Inputs& v) { return max_pool2d(v[0], {2, 2}); }, {leaf({2, 3, 4, 6})});
  EXPECT_GRADCHECK([](const Inputs& v) { return max_pool2d(v[0], {3, 2}, Size2{2, 1}, {1, 1}); },
                   {leaf({1, 2, 5, 5})});
  EXPECT_GRADCHECK([](const Inputs& v) { return max_pool2d(v[0], {2, 3}, Size2{1, 2}); }, {transposed_leaf({2, 2, 5, 6})});
}

TEST(MaxPool2d, ForwardValuesAndRouting) {
  for (DType dtype : {DType::F32, DType::F64}) {
    Tensor x = ramp4x4(dtype);
    EXPECT_EQ(max_pool2d(x, {2, 2}).to_vector<double>(), (std::vector<double>{5, 7, 13, 15}));
    // Padded windows: the padding never wins, even over negative values.
    EXPECT_EQ(max_pool2d(x - 100.0, {3, 3}, Size2{2, 2}, {1, 1}).to_vector<double>(),
              (std::vector<double>{-95, -93, -87, -85}));
  }
  // A NaN wins its window, as in PyTorch.
  std::vector<float> nan_window = max_pool2d(from_vector<float>({1, NAN, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2}), {2, 2})
                                      .to_vector<float>();
  EXPECT_TRUE(std::isnan(nan_window[0]));
  EXPECT_EQ(nan_window[1], 8);
  Tensor x = detach(ramp4x4(DType::F64)).set_requires_grad();
  backward(sum(max_pool2d(x, {3, 3}, Size2{1, 1})));  // each window's max is its bottom-right pixel
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1}));
}

TEST(AvgPool2d, Gradients) {
  EXPECT_GRADCHECK([](const Inputs& v) { return avg_pool2d(v[0], {2, 2}); }, {leaf({2, 3, 4, 6})});
  EXPECT_GRADCHECK([](const Inputs& v) { return avg_pool2d(v[0], {3, 2}, Size2{2, 1}, {1, 1}); },
                   {transposed_leaf({1, 2, 5, 5})});
}

TEST(AvgPool2d, ForwardValuesCountPadding) {
  Tensor x = reshape(arange(1, 10), {1, 1, 3, 3});
  std::vector<float> y = avg_pool2d(x, {3, 3}, Size2{2, 2}, {1, 1}).to_vector<float>();
  std::vector<float> want{12.f / 9, 16.f / 9, 24.f / 9, 28.f / 9};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(y[i], want[i]);
  EXPECT_EQ(avg_pool2d(ramp4x4(), {2, 2}).to_vector<float>(), (std::vector<float>{2.5, 4.5, 10.5, 12.5}));
}

TEST(AdaptiveAvgPool2d, GradientsAndValues) {
  EXPECT_GRADCHECK([](const Inputs& v) { return adaptive_avg_pool2d(v[0], {3, 2}); }, {leaf({2, 2, 5, 3})});
  EXPECT_GRADCHECK([](const Inputs& v) { return adaptive_avg_pool2d(v[0], {4, 7}); }, {transposed_leaf({1, 2, 3, 5})});
  // Rows of 5 into 3 windows: {0,1}, {1,2,3}, {3,4}; columns of 3 into 2: {0,1}, {1,2}.
  Tensor x = reshape(arange(0, 15), {1, 1, 5, 3});
  EXPECT_EQ(adaptive_avg_pool2d(x, {3, 2}).to_vector<float>(), (std::vector<float>{2, 3, 6.5, 7.5, 11, 12}));
  EXPECT_EQ(adaptive_avg_pool2d(x, {1, 1}).to_vector<float>(), (std::vector<float>{7}));
}

TEST(GlobalAvgPool2d, GradientsAndValues) {
  EXPECT_GRADCHECK([](const Inputs& v) { return global_avg_pool2d(v[0]); }, {transposed_leaf({2, 3, 4, 5})});
  Tensor x = reshape(arange(0, 8), {1, 2, 2, 2});
  EXPECT_EQ(global_avg_pool2d(x).shape(), (Shape{1, 2}));
  EXPECT_EQ(global_avg_pool2d(x).to_vector<float>(), (std::vector<float>{1.5, 5.5}));
}

TEST(Pool2d, ErrorsNameTheOpAndShapes) {
  Tensor x = zeros({2, 3, 4, 4});
  expect_error([&] { max_pool2d(zeros({3, 4, 4}), {2, 2}); }, "max_pool2d: input [3,4,4] must be 4-d [N,C,H,W]");
  expect_error([&] { max_pool2d(x, {3, 3}, std::nullopt, {2, 2}); },
               "max_pool2d: padding [2,2] must be at most half the kernel [3,3]");
  expect_error([&] { avg_pool2d(x, {5, 2}); },
               "avg_pool2d: kernel [5,2] is larger than the padded input [4,4] (input [2,3,4,4], padding [0,0])");
  expect_error([&] { avg_pool2d(x, {2, 2}, Size2{0, 1}); }, "avg_pool2d: stride [0,1] must be at least 1");
  expect_error([&] { adaptive_avg_pool2d(x, {0, 2}); }, "adaptive_avg_pool2d: output size [0,2] must be at least 1");
  expect_error([&] { global_avg_pool2d(zeros({2, 3})); }, "global_avg_pool2d: input [2,3] must be 4-d");
  expect_error([&] { max_pool2d(zeros({1, 1, 2, 2}, {.dtype = DType::I64}), {2, 2}); }, "max_pool2d: expected a floating");
}

}  // namespace
}  // namespace ember
