// conv1d / conv2d: gradients (f64, so the portable loops), forward values by hand in f32
// (oneDNN where built with it) and f64, and the errors.
#include <string>

#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

struct Conv2dCase {
  Shape x, w;
  bool bias;
  Size2 stride, padding, dilation;
  int64_t groups;
};

const Conv2dCase kConv2dCases[] = {
    {{2, 3, 5, 6}, {4, 3, 3, 3}, true, {1, 1}, {0, 0}, {1, 1}, 1},
    {{1, 2, 7, 6}, {3, 2, 3, 2}, true, {2, 1}, {1, 2}, {1, 2}, 1},
    {{2, 4, 5, 5}, {6, 2, 3, 2}, false, {2, 2}, {1, 1}, {1, 1}, 2},
    {{2, 3, 6, 5}, {6, 1, 3, 3}, true, {1, 2}, {1, 1}, {2, 1}, 3},  // depthwise, multiplier 2
    {{1, 3, 4, 4}, {3, 1, 1, 1}, false, {3, 3}, {0, 0}, {1, 1}, 3},
};

TEST(Conv2d, GradientsOverStridePaddingDilationGroups) {
  for (const Conv2dCase& c : kConv2dCases) {
    SCOPED_TRACE(::testing::Message() << "x " << c.x << " w " << c.w << " groups " << c.groups);
    Inputs in{leaf(c.x), leaf(c.w)};
    if (c.bias) in.push_back(leaf({c.w[0]}));
    EXPECT_GRADCHECK(
        [&c](const Inputs& v) {
          return conv2d(v[0], v[1], c.bias ? v[2] : Tensor(), c.stride, c.padding, c.dilation, c.groups);
        },
        in);
  }
}

TEST(Conv2d, GradientsOfNonContiguousOperandsAndPartialRequests) {
  auto f = [](const Inputs& v) { return conv2d(v[0], v[1], v[2], {1, 2}, {1, 0}); };
  EXPECT_GRADCHECK(f, {transposed_leaf({2, 2, 5, 4}), transposed_leaf({3, 2, 2, 3}), leaf({3})});
  // Only one operand requires a gradient: the others are not saved or computed.
  EXPECT_GRADCHECK(f, {leaf({1, 2, 4, 4}), detach(leaf({3, 2, 2, 2})), detach(leaf({3}))});
  EXPECT_GRADCHECK(f, {detach(leaf({1, 2, 4, 4})), leaf({3, 2, 2, 2}), detach(leaf({3}))});
  EXPECT_GRADCHECK(f, {detach(leaf({1, 2, 4, 4})), detach(leaf({3, 2, 2, 2})), leaf({3})});
}

TEST(Conv1d, GradientsOverStridePaddingDilationGroups) {
  auto grouped = [](const Inputs& v) { return conv1d(v[0], v[1], v[2], 2, 1, 2, 2); };
  EXPECT_GRADCHECK(grouped, {leaf({2, 4, 9}), leaf({6, 2, 3}), leaf({6})});
  auto depthwise = [](const Inputs& v) { return conv1d(v[0], v[1], Tensor(), 1, 2, 1, 3); };
  EXPECT_GRADCHECK(depthwise, {leaf({2, 3, 7}), leaf({3, 1, 5})});
  auto plain = [](const Inputs& v) { return conv1d(v[0], v[1], v[2]); };
  EXPECT_GRADCHECK(plain, {transposed_leaf({2, 3, 6}), leaf({2, 3, 2}), leaf({2})});
}

// x = 1..9 as a 3x3 image, w = [[1, 2], [3, 4]].
Tensor image(DType dtype) { return reshape(arange(1, 10, 1, {.dtype = dtype}), {1, 1, 3, 3}); }
Tensor kernel2x2(DType dtype) { return reshape(arange(1, 5, 1, {.dtype = dtype}), {1, 1, 2, 2}); }

TEST(Conv2d, ForwardValuesByHand) {
  for (DType dtype : {DType::F32, DType::F64}) {
    Tensor x = image(dtype), w = kernel2x2(dtype), b = full({1}, 0.5, {.dtype = dtype});
    EXPECT_EQ(conv2d(x, w, b).to_vector<double>(), (std::vector<double>{37.5, 47.5, 67.5, 77.5}));
    // Stride 2 over a 1-padded image: each window sees one to four pixels.
    EXPECT_EQ(conv2d(x, w, Tensor(), {2, 2}, {1, 1}).to_vector<double>(), (std::vector<double>{4, 18, 36, 77}));
    // Dilation 2: the 2x2 kernel reaches the corners.
    EXPECT_EQ(conv2d(x, w, Tensor(), {1, 1}, {0, 0}, {2, 2}).to_vector<double>(),
              (std::vector<double>{1 * 1 + 2 * 3 + 3 * 7 + 4 * 9}));
    EXPECT_EQ(conv2d(x, w).shape(), (Shape{1, 1, 2, 2}));
  }
}

TEST(Conv2d, DepthwiseKeepsChannelsApart) {
  Tensor x = reshape(arange(1, 9), {1, 2, 2, 2});
  Tensor w = from_vector<float>({2, 3, -1, 10}, {4, 1, 1, 1});
  EXPECT_EQ(conv2d(x, w, Tensor(), {1, 1}, {0, 0}, {1, 1}, 2).to_vector<float>(),
            (std::vector<float>{2, 4, 6, 8, 3, 6, 9, 12, -5, -6, -7, -8, 50, 60, 70, 80}));
}

TEST(Conv2d, EmptyBatchGivesEmptyOutputAndZeroWeightGradient) {
  Tensor x = randn({0, 3, 5, 5}), w = randn({4, 3, 3, 3}).set_requires_grad();
  Tensor y = conv2d(x, w);
  EXPECT_EQ(y.shape(), (Shape{0, 4, 3, 3}));
  backward(sum(y));
  EXPECT_EQ(w.grad().to_vector<float>(), std::vector<float>(108, 0.0f));
}

TEST(Conv1d, ForwardValuesByHand) {
  Tensor x = from_vector<float>({1, 2, 3, 4}, {1, 1, 4});
  Tensor w = from_vector<float>({1, -1}, {1, 1, 2});
  EXPECT_EQ(conv1d(x, w).to_vector<float>(), (std::vector<float>{-1, -1, -1}));
  EXPECT_EQ(conv1d(x, w, Tensor(), 1, 0, 2).to_vector<float>(), (std::vector<float>{-2, -2}));
  EXPECT_EQ(conv1d(x, w, Tensor(), 2, 1).to_vector<float>(), (std::vector<float>{-1, -1, 4}));
  EXPECT_EQ(conv1d(x, w).shape(), (Shape{1, 1, 3}));
}

TEST(Conv2d, Bf16FollowsF32) {
  Tensor x = randn({2, 4, 6, 6}), w = randn({4, 2, 3, 3}), b = randn({4});
  Tensor want = conv2d(x, w, b, {1, 1}, {1, 1}, {1, 1}, 2);
  Tensor got = conv2d(to(x, DType::BF16), to(w, DType::BF16), to(b, DType::BF16), {1, 1}, {1, 1}, {1, 1}, 2);
  std::vector<float> a = want.to_vector<float>(), g = got.to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(g[i], a[i], 0.05 + 0.02 * std::abs(a[i]));
}

using ::ember::testing::expect_error;

TEST(Conv2d, ErrorsNameTheOpAndShapes) {
  Tensor x = zeros({2, 3, 8, 8});
  expect_error([&] { conv2d(x, zeros({4, 2, 3, 3})); },
               "conv2d: input [2,3,8,8] has 3 channels, weight [4,2,3,3] expects 2 x groups 1");
  expect_error([&] { conv2d(zeros({3, 8, 8}), zeros({4, 3, 3, 3})); }, "conv2d: input [3,8,8] must be 4-d");
  expect_error([&] { conv2d(x, zeros({4, 3, 3})); }, "conv2d: weight [4,3,3] must be 4-d");
  expect_error([&] { conv2d(x, zeros({4, 3, 11, 3}), Tensor(), {1, 1}, {1, 1}); },
               "conv2d: kernel [11,3] with dilation [1,1] spans [11,3], larger than the padded input [10,10]");
  expect_error([&] { conv2d(x, zeros({4, 3, 3, 3}), Tensor(), {1, 1}, {0, 0}, {4, 1}); }, "spans [9,3]");
  expect_error([&] { conv2d(x, zeros({4, 3, 3, 3}), zeros({5})); }, "conv2d: bias [5] must be [4]");
  expect_error([&] { conv2d(x, zeros({4, 1, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 3); },
               "conv2d: weight [4,1,3,3] has 4 output channels, not divisible by groups 3");
  expect_error([&] { conv2d(x, zeros({4, 3, 3, 3}), Tensor(), {0, 1}); }, "conv2d: stride [0,1] must be at least 1");
  expect_error([&] { conv2d(x, zeros({4, 3, 3, 3}, {.dtype = DType::F64})); }, "conv2d: dtype mismatch");
  expect_error([&] { conv1d(zeros({2, 3, 8}), zeros({4, 2, 3})); },
               "conv1d: input [2,3,8] has 3 channels, weight [4,2,3] expects 2 x groups 1");
  expect_error([&] { conv1d(x, zeros({4, 3, 3})); }, "conv1d: input [2,3,8,8] must be 3-d [N,C,L]");
}

}  // namespace
}  // namespace ember
