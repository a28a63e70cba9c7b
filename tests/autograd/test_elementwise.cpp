#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::positive_leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

TEST(Elementwise, AddBroadcastsAndChecksGradient) {
  EXPECT_GRADCHECK([](const Inputs& in) { return in[0] + in[1]; }, {leaf({3, 4}), leaf({4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return in[0] + in[1]; }, {leaf({2, 1, 4}), leaf({3, 1})});
}

TEST(Elementwise, SubMulDivGradients) {
  EXPECT_GRADCHECK([](const Inputs& in) { return in[0] - in[1]; }, {transposed_leaf({3, 4}), leaf({3, 1})});
  EXPECT_GRADCHECK([](const Inputs& in) { return in[0] * in[1]; }, {leaf({2, 3, 4}), transposed_leaf({3, 4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return in[0] / in[1]; }, {leaf({5, 2}), positive_leaf({2})});
}

TEST(Elementwise, ScalarFormsAndNeg) {
  EXPECT_GRADCHECK([](const Inputs& in) { return 2.0 - in[0] * 3.0 + 1.5; }, {leaf({4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return 2.0 / in[0]; }, {positive_leaf({4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return -in[0] / 4.0; }, {transposed_leaf({2, 3})});
}

TEST(Elementwise, ForwardValues) {
  Tensor a = from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = from_vector<float>({10, 20}, {2});
  EXPECT_EQ((a + b).to_vector<float>(), (std::vector<float>{11, 22, 13, 24}));
  EXPECT_EQ((a * b).to_vector<float>(), (std::vector<float>{10, 40, 30, 80}));
  EXPECT_EQ(gt(a, from_vector<float>({2}, {1})).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1}));
}

TEST(Elementwise, ErrorsNameTheOpAndShapes) {
  Tensor a = zeros({2, 3}), b = zeros({4, 5});
  try {
    add(a, b);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("add: shapes [2,3] and [4,5] cannot be broadcast"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mul(a, zeros({2, 3}, {.dtype = DType::I64})), Error);  // floating mixes promote (test_autocast)
}

TEST(Elementwise, InPlaceOpsBumpVersionAndRefuseRecordedTensors) {
  Tensor a = ones({3});
  uint64_t v = a.version();
  add_(a, full({3}, 2.0), 0.5);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{2, 2, 2}));
  EXPECT_GT(a.version(), v);
  mul_(a, 3.0);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{6, 6, 6}));
  zero_(a);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  Tensor p = ones({3}).set_requires_grad();
  EXPECT_THROW(add_(p, a), Error);
  NoGradGuard no_grad;
  EXPECT_NO_THROW(add_(p, a));
}

}  // namespace
}  // namespace ember
