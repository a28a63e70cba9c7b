// batch_norm and group_norm: gradients, values and running statistics by hand, errors.
#include <cmath>
#include <string>

#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::positive_leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

using ::ember::testing::expect_error;

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-6) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(BatchNorm, TrainingGradients) {
  auto f = [](const Inputs& v) { return batch_norm(v[0], Tensor(), Tensor(), v[1], v[2], true); };
  EXPECT_GRADCHECK(f, {leaf({4, 3, 2, 3}), leaf({3}), leaf({3})});
  EXPECT_GRADCHECK(f, {transposed_leaf({5, 3}), leaf({3}), leaf({3})});
  Tensor rm = zeros({2}, {.dtype = DType::F64}), rv = ones({2}, {.dtype = DType::F64});
  EXPECT_GRADCHECK([&](const Inputs& v) { return batch_norm(v[0], rm, rv, Tensor(), Tensor(), true, 0.3); },
                   {leaf({3, 2, 4})});
}

TEST(BatchNorm, EvalGradients) {
  Tensor rm = randn({3}, {.dtype = DType::F64}), rv = rand({3}, {.dtype = DType::F64}) + 0.5;
  EXPECT_GRADCHECK([&](const Inputs& v) { return batch_norm(v[0], rm, rv, v[1], v[2], false); },
                   {transposed_leaf({2, 3, 4, 2}), leaf({3}), leaf({3})});
}

// x [4, 2]: channel 0 holds 1, 2, 3, 4 and channel 1 holds 2, 4, 6, 8.
Tensor two_channels() { return from_vector<double>({1, 2, 2, 4, 3, 6, 4, 8}, {4, 2}); }

TEST(BatchNorm, TrainingNormalisesWithBatchStatsAndUpdatesRunningStats) {
  Tensor x = two_channels();
  Tensor rm = from_vector<double>({0, 1}, {2}), rv = from_vector<double>({1, 2}, {2});
  Tensor w = from_vector<double>({2, 1}, {2}), b = from_vector<double>({0, -1}, {2});
  Tensor y = batch_norm(x, rm, rv, w, b, true, 0.1, 1e-5);
  // Means 2.5 and 5; biased variances 1.25 and 5; unbiased 5/3 and 20/3.
  const double s0 = 2 / std::sqrt(1.25 + 1e-5), s1 = 1 / std::sqrt(5 + 1e-5);
  expect_near(y.to_vector<double>(), {-1.5 * s0, -3 * s1 - 1, -0.5 * s0, -1 * s1 - 1, 0.5 * s0, 1 * s1 - 1, 1.5 * s0,
                                      3 * s1 - 1});
  expect_near(rm.to_vector<double>(), {0.9 * 0 + 0.1 * 2.5, 0.9 * 1 + 0.1 * 5});
  expect_near(rv.to_vector<double>(), {0.9 * 1 + 0.1 * 5.0 / 3, 0.9 * 2 + 0.1 * 20.0 / 3});
}

TEST(BatchNorm, EvalUsesRunningStatsAndLeavesThemAlone) {
  Tensor x = two_channels();
  Tensor rm = from_vector<double>({1, 2}, {2}), rv = from_vector<double>({4, 0.25}, {2});
  Tensor y = batch_norm(x, rm, rv, Tensor(), from_vector<double>({1, 0}, {2}), false, 0.1, 0.0);
  expect_near(y.to_vector<double>(), {1, 0, 1.5, 4, 2, 8, 2.5, 12});
  expect_near(rm.to_vector<double>(), {1, 2});
  expect_near(rv.to_vector<double>(), {4, 0.25});
  // Without running stats, eval normalises with the batch's own statistics.
  Tensor z = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false, 0.1, 0.0);
  expect_near(z.to_vector<double>(), batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 0.0).to_vector<double>());
}

TEST(BatchNorm, F32MatchesF64) {
  Tensor x = randn({8, 4, 5, 5}) * 3.0 + 1.0;
  Tensor y32 = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  Tensor y64 = batch_norm(to(x, DType::F64), Tensor(), Tensor(), Tensor(), Tensor(), true);
  expect_near(y32.to_vector<double>(), y64.to_vector<double>(), 1e-4);
}

TEST(GroupNorm, Gradients) {
  EXPECT_GRADCHECK([](const Inputs& v) { return group_norm(v[0], 2, v[1], v[2]); },
                   {leaf({2, 4, 3, 2}), leaf({4}), leaf({4})});
  EXPECT_GRADCHECK([](const Inputs& v) { return group_norm(v[0], 3); }, {transposed_leaf({2, 3, 5})});
  EXPECT_GRADCHECK([](const Inputs& v) { return group_norm(v[0], 1, v[1]); }, {leaf({3, 2, 4}), positive_leaf({2})});
}

TEST(GroupNorm, ValuesByHand) {
  // One sample, 4 channels of 2 values, 2 groups: group 0 = {1, 3, 5, 7}, group 1 = {2, 2, 4, 4}.
  Tensor x = from_vector<double>({1, 3, 5, 7, 2, 2, 4, 4}, {1, 4, 2});
  Tensor w = from_vector<double>({1, 1, 2, 2}, {4}), b = from_vector<double>({0, 0, 0, 1}, {4});
  const double r0 = 1 / std::sqrt(5.0), r1 = 1.0;
  expect_near(group_norm(x, 2, w, b, 0.0).to_vector<double>(),
              {-3 * r0, -1 * r0, 1 * r0, 3 * r0, -2 * r1, -2 * r1, 2 * r1 + 1, 2 * r1 + 1});
}

TEST(Norms, ErrorsNameTheOpAndShapes) {
  Tensor x = zeros({4, 3, 2});
  expect_error([&] { batch_norm(zeros({3}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
               "batch_norm: input [3] must be [N,C,...]");
  expect_error([&] { batch_norm(x, Tensor(), Tensor(), zeros({4}), Tensor(), true); },
               "batch_norm: weight [4] must be [3], one per channel of input [4,3,2]");
  expect_error([&] { batch_norm(x, zeros({3}), Tensor(), Tensor(), Tensor(), true); },
               "batch_norm: give both running_mean and running_var");
  expect_error([&] { batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
               "batch_norm: input [1,3] has 1 value per channel");
  expect_error([&] { group_norm(x, 2); }, "group_norm: input [4,3,2] has 3 channels, not divisible into 2 groups");
  expect_error([&] { group_norm(x, 3, Tensor(), zeros({2})); }, "group_norm: bias [2] must be [3]");
}

}  // namespace
}  // namespace ember
