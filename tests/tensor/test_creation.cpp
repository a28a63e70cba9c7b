#include <sstream>

#include "tests/testing.h"

namespace ember {
namespace {

TEST(Creation, FilledTensors) {
  EXPECT_EQ(zeros({2, 3}).to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(ones({4}, {.dtype = DType::F64}).to_vector<double>(), std::vector<double>(4, 1.0));
  EXPECT_EQ(full({2}, 7.5).to_vector<float>(), (std::vector<float>{7.5f, 7.5f}));
  EXPECT_EQ(scalar(3.0).dim(), 0);
  EXPECT_EQ(scalar(3.0).item(), 3.0);
  EXPECT_EQ(eye(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
}

TEST(Creation, RangesMatchNumPy) {
  EXPECT_EQ(arange(0, 5).to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(1, 2, 0.25).to_vector<float>(), (std::vector<float>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(arange(5, 0, -2, {.dtype = DType::I64}).to_vector<int64_t>(), (std::vector<int64_t>{5, 3, 1}));
  EXPECT_EQ(linspace(0, 1, 5).to_vector<float>(), (std::vector<float>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_THROW(arange(0, 1, 0), Error);
}

TEST(Creation, FromVectorChecksSize) {
  Tensor t = from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.dtype(), DType::I64);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  try {
    from_vector<float>({1, 2, 3}, {2, 2});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("from_vector: 3 values do not fill shape [2,2]"), std::string::npos);
  }
  EXPECT_THROW(zeros({2, -1}), Error);
}

TEST(Random, SeedReproducesAndStreamsDiffer) {
  manual_seed(42);
  std::vector<float> a = randn({1000}).to_vector<float>();
  std::vector<float> b = randn({1000}).to_vector<float>();
  manual_seed(42);
  EXPECT_EQ(randn({1000}).to_vector<float>(), a);
  EXPECT_NE(a, b);
}

TEST(Random, DistributionsHaveTheRightMoments) {
  manual_seed(7);
  const int n = 200000;
  std::vector<double> u = rand({n}, {.dtype = DType::F64}).to_vector<double>();
  std::vector<double> z = randn({n}, {.dtype = DType::F64}).to_vector<double>();
  double mu = 0, mz = 0, vz = 0;
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(u[i] >= 0 && u[i] < 1);
    mu += u[i] / n;
    mz += z[i] / n;
  }
  for (double v : z) vz += (v - mz) * (v - mz) / n;
  EXPECT_NEAR(mu, 0.5, 0.005);
  EXPECT_NEAR(mz, 0.0, 0.01);
  EXPECT_NEAR(vz, 1.0, 0.01);
  std::vector<int64_t> r = randint(-3, 4, {10000}).to_vector<int64_t>();
  std::vector<int> counts(7, 0);
  for (int64_t v : r) {
    ASSERT_TRUE(v >= -3 && v < 4);
    ++counts[static_cast<size_t>(v + 3)];
  }
  for (int c : counts) EXPECT_GT(c, 1200);
}

TEST(Dtypes, Bf16RoundsToNearestEven) {
  EXPECT_EQ(static_cast<float>(bf16(1.0f)), 1.0f);
  EXPECT_EQ(static_cast<float>(bf16(3.140625f)), 3.140625f);
  EXPECT_NEAR(static_cast<float>(bf16(0.1f)), 0.1f, 1e-3);
  Tensor t = to(from_vector<float>({1.5f, -2.25f, 1e-3f}, {3}), DType::BF16);
  EXPECT_EQ(t.dtype(), DType::BF16);
  std::vector<float> back = t.to_vector<float>();
  EXPECT_EQ(back[0], 1.5f);
  EXPECT_EQ(back[1], -2.25f);
  EXPECT_NEAR(back[2], 1e-3f, 1e-5);
}

TEST(Printing, ShowsValuesShapeAndDtype) {
  std::ostringstream os;
  os << from_vector<float>({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(os.str(), "Tensor([[1, 2],\n        [3, 4]], shape=[2,2], dtype=f32)");
  std::ostringstream big;
  big << arange(0, 100, 1, {.dtype = DType::I64});
  EXPECT_NE(big.str().find("0, 1, 2, ..., 97, 98, 99"), std::string::npos) << big.str();
  std::ostringstream undefined;
  undefined << Tensor();
  EXPECT_EQ(undefined.str(), "Tensor(undefined)");
}

TEST(Errors, UndefinedTensorAndItem) {
  EXPECT_THROW(Tensor().shape(), Error);
  EXPECT_THROW(zeros({2}).item(), Error);
  EXPECT_THROW(zeros({2}).data<double>(), Error);
  EXPECT_THROW(zeros({2}, {.dtype = DType::I64}).set_requires_grad(), Error);
}

}  // namespace
}  // namespace ember
