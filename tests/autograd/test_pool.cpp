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

using ::ember::testing::expect_error;

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

// PyTorch's options, against values from PyTorch 1.13 (F.max_pool2d / F.avg_pool2d on
// x = 3 sin(1..70) as [1, 2, 5, 7], upstream gradient 1..numel), written in here.
TEST(Pool2d, PyTorchOptionsMatchPyTorchValues) {
  const std::vector<double> kMaxValues = {2.9680747398701453, 1.2363554557252698, 1.2605011104799226, 2.971822067084611, 2.9680747398701453, 1.2363554557252698, 2.869127785213509, 2.971822067084611, -0.02655392787121163, -0.3970552502933191, 2.869127785213509, 2.869127785213509, 0.053105775316240736, 2.7053650429464278, 2.7053650429464278, -2.3047639839710006, 2.978617944253611, 2.978617944253611, 2.7053650429464278, 0.5020671009084208, 2.978617944253611, 2.978617944253611, -0.91443186330665, 0.5020671009084208};
  const std::vector<double> kMaxGrad = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 6.0, 8.0, 0.0, 0.0, 0.0, 3.0, 12.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 10.0, 0.0, 30.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 13.0, 0.0, 48.0, 0.0, 16.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 78.0, 0.0, 23.0, 0.0, 0.0, 44.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  const std::vector<double> kAvgInclValues = {0.9154146157156391, 0.45925740461896786, -1.6261449472611025, 0.8941727465206872, 0.8153973887450473, -1.5665011001870148, -0.7537332306390163, 2.1938284992487835, -0.3362425967516857, -1.5719340177988606, 1.0907726208653938, 0.6640908666681223, -0.911776798035857, 0.26071794749595895, 1.367135008578735, -1.3985757654017406, -0.32899242054235106, 2.0775364363735336, -0.20421540969317933, -1.9075692429375433, 0.6780953967223078, 1.2149440903449058, -1.5121880253876119, 0.043640435714143035};
  const std::vector<double> kAvgInclGrad = {0.16666666666666666, 0.3333333333333333, 0.3333333333333333, 0.5, 0.5, 0.6666666666666666, 0.6666666666666666, 1.0, 1.3333333333333333, 1.3333333333333333, 1.6666666666666667, 1.6666666666666667, 2.0, 2.0, 0.8333333333333334, 1.0, 1.0, 1.1666666666666667, 1.1666666666666667, 1.3333333333333333, 1.3333333333333333, 2.3333333333333335, 2.666666666666667, 2.666666666666667, 3.0, 3.0, 3.333333333333333, 3.333333333333333, 1.5, 1.6666666666666667, 1.6666666666666667, 1.8333333333333333, 1.8333333333333333, 2.0, 2.0, 2.1666666666666665, 2.3333333333333335, 2.3333333333333335, 2.5, 2.5, 2.6666666666666665, 2.6666666666666665, 5.0, 5.333333333333334, 5.333333333333334, 5.666666666666666, 5.666666666666666, 6.0, 6.0, 2.8333333333333335, 3.0, 3.0, 3.1666666666666665, 3.1666666666666665, 3.3333333333333335, 3.3333333333333335, 6.333333333333334, 6.666666666666666, 6.666666666666666, 7.0, 7.0, 7.333333333333334, 7.333333333333334, 3.5, 3.6666666666666665, 3.6666666666666665, 3.8333333333333335, 3.8333333333333335, 4.0, 4.0};
  const std::vector<double> kAvgExclValues = {2.7462438471469173, 0.6888861069284518, -2.4392174208916537, 1.3412591197810309, 1.6307947774900946, -1.5665011001870148, -0.7537332306390163, 2.1938284992487835, -1.008727790255057, -2.3579010266982907, 1.6361589312980906, 0.9961363000021836, -2.735330394107571, 0.3910769212439384, 2.0507025128681025, -2.097863648102611, -0.6579848410847021, 2.0775364363735336, -0.20421540969317933, -1.9075692429375433, 2.0342861901669234, 1.8224161355173587, -2.2682820380814177, 0.06546065357121456};
  const std::vector<double> kAvgExclGrad = {0.5, 0.5, 0.5, 0.75, 0.75, 1.0, 1.0, 2.166666666666667, 1.5, 1.5, 1.9166666666666667, 1.9166666666666667, 2.333333333333333, 2.333333333333333, 1.6666666666666667, 1.0, 1.0, 1.1666666666666667, 1.1666666666666667, 1.3333333333333333, 1.3333333333333333, 6.166666666666667, 3.5, 3.5, 3.916666666666667, 3.916666666666667, 4.333333333333333, 4.333333333333333, 4.5, 2.5, 2.5, 2.75, 2.75, 3.0, 3.0, 6.5, 3.5, 3.5, 3.75, 3.75, 4.0, 4.0, 12.166666666666668, 6.5, 6.5, 6.916666666666666, 6.916666666666666, 7.333333333333334, 7.333333333333334, 5.666666666666667, 3.0, 3.0, 3.1666666666666665, 3.1666666666666665, 3.3333333333333335, 3.3333333333333335, 16.166666666666668, 8.5, 8.5, 8.916666666666666, 8.916666666666666, 9.333333333333334, 9.333333333333334, 10.5, 5.5, 5.5, 5.75, 5.75, 6.0, 6.0};
  // dilation 2, kernel 3, stride 2: [1, 2, 1, 2]
  const std::vector<double> kMaxDilated = {2.9997355803218015, 2.9997355803218015, 2.959882776121456, 2.959882776121456};
  // ceil_mode, kernel 2: [1, 2, 3, 4]
  const std::vector<double> kMaxCeil = {2.9680747398701453, 0.4233600241796016, 1.2605011104799226, 2.971822067084611, 1.9508635204713505, -0.3970552502933191, 2.869127785213509, 2.5099669156081683, -1.9909016526389025, 1.6542800437250718, 2.9997355803218015, -1.284548008488453, 0.053105775316240736, 2.8913861588522636, 2.2353394814380465, -2.7495646437469015, 2.978617944253611, 2.959882776121456, -1.6763671465548489, 0.5020671009084208, 2.760078114590372, -0.07965346207190038, -0.34435444134956167, 2.3216720446736674};
  Tensor x = (sin(reshape(arange(1, 71, 1, {.dtype = DType::F64}), {1, 2, 5, 7})) * 3.0).set_requires_grad();
  auto check = [&](const Tensor& y, const Shape& shape, const std::vector<double>& values,
                   const std::vector<double>& grad) {
    ASSERT_EQ(y.shape(), shape);
    const std::vector<double> got = y.to_vector<double>();
    for (size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(got[i], values[i], 1e-14) << "value " << i;
    if (grad.empty()) return;
    x.set_grad(Tensor());
    backward(y, reshape(arange(1, static_cast<double>(y.numel()) + 1, 1, {.dtype = DType::F64}), y.shape()));
    const std::vector<double> g = x.grad().to_vector<double>();
    for (size_t i = 0; i < grad.size(); ++i) EXPECT_NEAR(g[i], grad[i], 1e-13) << "gradient " << i;
  };
  check(max_pool2d(x, {2, 3}, {.stride = Size2{2, 2}, .padding = {1, 1}, .dilation = {2, 1}, .ceil_mode = true}),
        {1, 2, 3, 4}, kMaxValues, kMaxGrad);
  check(avg_pool2d(x, {3, 2}, {.stride = Size2{2, 2}, .padding = {1, 1}, .ceil_mode = true}), {1, 2, 3, 4},
        kAvgInclValues, kAvgInclGrad);
  check(avg_pool2d(x, {3, 2}, {.stride = Size2{2, 2}, .padding = {1, 1}, .ceil_mode = true, .count_include_pad = false}),
        {1, 2, 3, 4}, kAvgExclValues, kAvgExclGrad);
  check(max_pool2d(x, {3, 3}, {.stride = Size2{2, 2}, .dilation = {2, 2}}), {1, 2, 1, 2}, kMaxDilated, {});
  check(max_pool2d(x, {2, 2}, {.ceil_mode = true}), {1, 2, 3, 4}, kMaxCeil, {});
  // Defaults are the fused kernels' results.
  EXPECT_EQ(max_pool2d(x, {2, 2}, MaxPool2dOptions{}).to_vector<double>(), max_pool2d(x, {2, 2}).to_vector<double>());
  // f32 agrees; gradchecks in f64 of each option.
  std::vector<double> got32 =
      max_pool2d(to(x, DType::F32), {2, 3}, {.stride = Size2{2, 2}, .padding = {1, 1}, .dilation = {2, 1}, .ceil_mode = true})
          .to_vector<double>();
  for (size_t i = 0; i < kMaxValues.size(); ++i) EXPECT_NEAR(got32[i], kMaxValues[i], 1e-6);
  EXPECT_GRADCHECK([](const Inputs& in) { return max_pool2d(in[0], {2, 2}, {.padding = {1, 0}, .dilation = {2, 2}, .ceil_mode = true}); },
                   {leaf({2, 2, 6, 7})});
  EXPECT_GRADCHECK([](const Inputs& in) { return avg_pool2d(in[0], {3, 3}, {.stride = Size2{2, 2}, .padding = {1, 1}, .ceil_mode = true, .count_include_pad = false}); },
                   {transposed_leaf({2, 2, 6, 7})});
  EXPECT_GRADCHECK([](const Inputs& in) { return avg_pool2d(in[0], {2, 3}, {.stride = Size2{2, 2}, .ceil_mode = true}); },
                   {leaf({1, 3, 5, 8})});
  EXPECT_THROW(max_pool2d(x, {2, 2}, {.dilation = {0, 1}}), Error);
  EXPECT_THROW(max_pool2d(x, {3, 3}, {.dilation = {3, 3}}), Error);  // extent 7 > 5
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
