// Initialisers: fans, gains, and the statistics of the draws on large tensors.
#include <cmath>

#include "nn/nn.h"
#include "tests/testing.h"

namespace ember {
namespace {

namespace init = nn::init;

struct Stats {
  double mean, std, min, max;
};

Stats stats_of(const Tensor& t) {
  std::vector<double> v = t.to_vector<double>();
  double s = 0, ss = 0, lo = v[0], hi = v[0];
  for (double x : v) {
    s += x;
    ss += x * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double n = static_cast<double>(v.size());
  return {s / n, std::sqrt(ss / n - (s / n) * (s / n)), lo, hi};
}

TEST(Init, FansFollowPyTorch) {
  init::Fans linear = init::fans(empty({4, 3}));
  EXPECT_EQ(linear.in, 3);
  EXPECT_EQ(linear.out, 4);
  init::Fans conv = init::fans(empty({8, 3, 5, 5}));
  EXPECT_EQ(conv.in, 75);
  EXPECT_EQ(conv.out, 200);
  EXPECT_THROW(init::fans(empty({5})), Error);
}

TEST(Init, Gains) {
  EXPECT_DOUBLE_EQ(init::gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::gain("linear"), 1.0);
  EXPECT_DOUBLE_EQ(init::gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  try {
    init::gain("swirl");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("init::gain: unknown nonlinearity 'swirl'"), std::string::npos) << e.what();
  }
}

TEST(Init, KaimingNormalStdOnALargeLayer) {
  manual_seed(0);
  Tensor w = empty({512, 1024});
  init::kaiming_normal_(w);  // relu gain, fan_in
  Stats s = stats_of(w);
  EXPECT_NEAR(s.std, std::sqrt(2.0 / 1024), 0.01 * std::sqrt(2.0 / 1024));
  EXPECT_NEAR(s.mean, 0, 1e-3);
  init::kaiming_normal_(w, 0, init::FanMode::FanOut, "relu");
  EXPECT_NEAR(stats_of(w).std, std::sqrt(2.0 / 512), 0.01 * std::sqrt(2.0 / 512));
}

TEST(Init, KaimingUniformBoundAndStd) {
  manual_seed(0);
  Tensor w = empty({256, 64, 3, 3});  // fan_in 576
  init::kaiming_uniform_(w);
  const double std = std::sqrt(2.0 / 576);
  Stats s = stats_of(w);
  EXPECT_NEAR(s.std, std, 0.01 * std);
  EXPECT_LE(s.max, std::sqrt(3.0) * std);
  EXPECT_GE(s.min, -std::sqrt(3.0) * std);
  EXPECT_GT(s.max, 0.99 * std::sqrt(3.0) * std);
}

TEST(Init, XavierStd) {
  manual_seed(0);
  Tensor w = empty({300, 700});
  const double std = std::sqrt(2.0 / 1000);
  init::xavier_normal_(w);
  EXPECT_NEAR(stats_of(w).std, std, 0.01 * std);
  init::xavier_uniform_(w, 2.0);
  Stats s = stats_of(w);
  EXPECT_NEAR(s.std, 2 * std, 0.02 * std);
  EXPECT_LE(s.max, 2 * std::sqrt(3.0) * std);
}

TEST(Init, UniformNormalConstant) {
  manual_seed(0);
  Tensor t = empty({100000}, {.dtype = DType::F64});
  init::uniform_(t, -2, 4);
  Stats s = stats_of(t);
  EXPECT_GE(s.min, -2);
  EXPECT_LT(s.max, 4);
  EXPECT_NEAR(s.mean, 1, 0.03);
  EXPECT_NEAR(s.std, 6 / std::sqrt(12.0), 0.02);
  init::normal_(t, 3, 0.5);
  s = stats_of(t);
  EXPECT_NEAR(s.mean, 3, 0.01);
  EXPECT_NEAR(s.std, 0.5, 0.005);
  init::constant_(t, 2.5);
  EXPECT_EQ(stats_of(t).min, 2.5);
  EXPECT_EQ(stats_of(init::ones_(t)).max, 1.0);
  EXPECT_EQ(stats_of(init::zeros_(t)).max, 0.0);
  EXPECT_THROW(init::uniform_(t, 1, 0), Error);
  EXPECT_THROW(init::normal_(t, 0, -1), Error);
}

TEST(Init, WorksOnParametersWithoutRecordingAndRepeatsWithTheSeed) {
  Tensor p = zeros({4, 4}).set_requires_grad();
  manual_seed(7);
  init::xavier_uniform_(p);
  EXPECT_TRUE(p.is_leaf());
  std::vector<float> first = p.to_vector<float>();
  manual_seed(7);
  init::xavier_uniform_(p);
  EXPECT_EQ(p.to_vector<float>(), first);
}

TEST(Init, LinearAndConvDefaultsFollowPyTorch) {
  manual_seed(0);
  nn::Linear lin(400, 300);
  const double bound = 1 / std::sqrt(400.0);
  Stats w = stats_of(lin.weight()), b = stats_of(lin.bias());
  EXPECT_NEAR(w.std, bound / std::sqrt(3.0), 0.02 * bound);
  EXPECT_LE(w.max, bound);
  EXPECT_GE(b.min, -bound);
  EXPECT_LE(b.max, bound);
  EXPECT_GT(b.max, 0.8 * bound);
  nn::Conv2d conv(16, 64, 3);
  const double cbound = 1 / std::sqrt(16.0 * 9);
  EXPECT_NEAR(stats_of(conv.weight()).std, cbound / std::sqrt(3.0), 0.03 * cbound);
  EXPECT_LE(stats_of(conv.bias()).max, cbound);
}

}  // namespace
}  // namespace ember
