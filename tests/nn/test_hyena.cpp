// HyenaOperator: shapes, parameter count, causality, the positional features and decay rates
// by hand, and an f64 gradient check through the whole operator, parameters included.
#include <cmath>
#include <numbers>

#include "nn/layers/hyena.h"
#include "tests/testing.h"

namespace ember {
namespace {

using Inputs = std::vector<Tensor>;

using ::ember::testing::expect_error;

nn::HyenaOptions tiny() {
  nn::HyenaOptions o;
  o.filter_width = 8;
  o.filter_depth = 1;
  return o;
}

TEST(Hyena, OutputShapeAndShorterInputs) {
  nn::HyenaOperator op(8, 16);
  EXPECT_EQ(op(randn({2, 16, 8})).shape(), (Shape{2, 16, 8}));
  EXPECT_EQ(op(randn({3, 11, 8})).shape(), (Shape{3, 11, 8}));
  EXPECT_EQ(op(randn({1, 1, 8})).shape(), (Shape{1, 1, 8}));
}

TEST(Hyena, ParameterCountFollowsTheReference) {
  const int64_t d = 16, l_max = 32, inner = 3 * d, width = 64, channels = 2 * d;
  nn::HyenaOperator op(d, l_max);
  const int64_t expected = (d * inner + inner)            // in_proj
                           + (d * d + d)                  // out_proj
                           + (inner * 3 + inner)          // depthwise short filter
                           + l_max * 3                    // positional features z
                           + (3 * width + width)          // first filter Linear
                           + width                        // the shared Sin frequencies
                           + 2 * (width * width + width)  // two inner Linears
                           + width * channels             // last Linear, no bias
                           + channels;                    // filter bias (the D terms)
  EXPECT_EQ(op.num_parameters(), expected);
  // Dotted names as in the reference's state dict.
  const auto names = op.named_parameters();
  EXPECT_EQ(names.size(), 16u);  // the shared Sin's frequencies once
  EXPECT_EQ(names[6].first, "filter_fn.bias");
  EXPECT_EQ(names[7].first, "filter_fn.pos_emb.z");
  EXPECT_EQ(names[10].first, "filter_fn.implicit_filter.1.freq");
  EXPECT_EQ(names.back().first, "filter_fn.implicit_filter.6.weight");
  EXPECT_EQ(op.named_buffers().size(), 2u);  // pos_emb.t, modulation.deltas
}

// Changing the inputs after position t leaves the outputs up to t unchanged.
void expect_causal(DType dtype, double tol) {
  nn::HyenaOperator op(4, 12, tiny());
  op.to(dtype);
  Tensor u = randn({2, 12, 4}, {.dtype = dtype});
  for (int64_t t : {0, 5, 10}) {
    Tensor changed = clone(u);
    copy_(slice(changed, 1, t + 1, 12), randn({2, 11 - t, 4}, {.dtype = dtype}) * 3.0);
    const std::vector<double> a = to(slice(op(u), 1, 0, t + 1), DType::F64).to_vector<double>();
    const std::vector<double> b = to(slice(op(changed), 1, 0, t + 1), DType::F64).to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol) << "t " << t << ", element " << i;
    // ... while the later outputs do change.
    EXPECT_GT(max(abs(slice(op(u), 1, t + 1, 12) - slice(op(changed), 1, t + 1, 12))).item(), 1e-3);
  }
}

TEST(Hyena, CausalInFloat64) { expect_causal(DType::F64, 1e-12); }
TEST(Hyena, CausalInFloat32) { expect_causal(DType::F32, 1e-5); }

TEST(Hyena, GradientsOfInputAndEveryParameter) {
  nn::HyenaOperator op(4, 8, tiny());
  op.to(DType::F64);
  Inputs inputs{testing::leaf({2, 8, 4})};
  for (const Tensor& p : op.parameters()) inputs.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return op(in[0]); }, inputs);
  // Order 3, a shorter input than l_max, and the modulation shifted.
  nn::HyenaOptions o = tiny();
  o.order = 3;
  o.shift = 0.1;
  nn::HyenaOperator op3(3, 10, o);
  op3.to(DType::F64);
  Inputs inputs3{testing::leaf({2, 7, 3})};
  for (const Tensor& p : op3.parameters()) inputs3.push_back(p);
  EXPECT_GRADCHECK([&](const Inputs& in) { return op3(in[0]); }, inputs3);
}

TEST(Hyena, PositionalFeaturesByHand) {
  // emb_dim 5: two bands, frequencies 1e-4 and 1; row i = [i / (L - 1), cos(f w), -sin(f w)], w = 2 pi i / L.
  nn::PositionalEmbedding pe(5, 8);
  const std::vector<double> z = to(pe.z(8), DType::F64).to_vector<double>();
  for (int64_t i = 0; i < 8; ++i) {
    const double w = 2 * std::numbers::pi * static_cast<double>(i) / 8, *row = &z[static_cast<size_t>(5 * i)];
    EXPECT_NEAR(row[0], static_cast<double>(i) / 7, 1e-7);
    EXPECT_NEAR(row[1], std::cos(1e-4 * w), 1e-7);
    EXPECT_NEAR(row[2], std::cos(w), 1e-7);
    EXPECT_NEAR(row[3], -std::sin(1e-4 * w), 1e-7);
    EXPECT_NEAR(row[4], -std::sin(w), 1e-7);
  }
  EXPECT_EQ(pe.t(3).shape(), (Shape{3, 1}));
  expect_error([] { nn::PositionalEmbedding(4, 8); }, "emb_dim must be odd and at least 3");
}

TEST(Hyena, ExponentialDecayRatesByHand) {
  // Channel c of h = 1 is exp(-t |delta_c|), deltas from log(1e-2) / 1.5 to log(1e-2) / 0.3.
  nn::ExponentialModulation m(3, nn::HyenaOptions{});
  const Tensor t = from_vector<float>({0, 0.5f, 1}, {3, 1});
  const std::vector<double> h = to(m.modulate(t, ones({3, 3})), DType::F64).to_vector<double>();
  const double lo = std::log(1e-2) / 1.5, hi = std::log(1e-2) / 0.3, deltas[] = {lo, (lo + hi) / 2, hi};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(h[static_cast<size_t>(3 * r + c)], std::exp(-0.5 * r * std::abs(deltas[c])), 1e-6);
  // The slowest channel reaches the target at t = slow_decay_pct: exp(-1.5 |lo|) = 1e-2.
  EXPECT_NEAR(std::exp(-1.5 * std::abs(lo)), 1e-2, 1e-12);
}

TEST(Hyena, SinUsesItsFrequencies) {
  nn::Sin act(2, 3.0);
  const std::vector<float> y = act(from_vector<float>({0.5f, -1}, {1, 2})).to_vector<float>();
  EXPECT_NEAR(y[0], std::sin(1.5), 1e-6);
  EXPECT_NEAR(y[1], std::sin(-3.0), 1e-6);
}

TEST(Hyena, DropoutOnlyWhileTraining) {
  nn::HyenaOptions o = tiny();
  o.dropout = 0.5;
  nn::HyenaOperator op(4, 8, o);
  const Tensor u = randn({1, 8, 4});
  op.eval();
  const Tensor a = op(u), b = op(u);
  EXPECT_EQ(max(abs(a - b)).item(), 0.0);
  op.train();
  EXPECT_GT(max(abs(op(u) - a)).item(), 1e-4);
}

TEST(Hyena, ErrorsNameTheModuleAndShapes) {
  nn::HyenaOperator op(4, 8);
  expect_error([&] { op(randn({2, 8, 5})); }, "HyenaOperator(4, l_max=8, order=2): input [2,8,5] must be [B, L, 4]");
  expect_error([&] { op(randn({2, 9, 4})); }, "input [2,9,4] has length 9, outside 1 .. l_max = 8");
  expect_error([] { nn::HyenaOperator(4, 8, nn::HyenaOptions{.order = 0}); }, "sizes must be positive");
}

}  // namespace
}  // namespace ember
