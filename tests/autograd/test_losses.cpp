#include <cmath>

#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::positive_leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

using ::ember::testing::expect_error;

// PyTorch's cross-entropy of [N, C] logits, written out in f64.
std::vector<double> reference_cross_entropy(const Tensor& logits, const std::vector<int64_t>& target, Reduction r,
                                            int64_t ignore_index, double s) {
  const int64_t n_rows = logits.size(0), c = logits.size(1);
  std::vector<double> x = to(logits, DType::F64).to_vector<double>();
  std::vector<double> losses;
  double total = 0, kept = 0;
  for (int64_t n = 0; n < n_rows; ++n) {
    const double* row = x.data() + n * c;
    double m = row[0], z = 0, loss = 0;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, row[j]);
    for (int64_t j = 0; j < c; ++j) z += std::exp(row[j] - m);
    const double lse = m + std::log(z);
    const int64_t t = target[static_cast<size_t>(n)];
    if (t != ignore_index) {
      for (int64_t j = 0; j < c; ++j) loss -= ((j == t ? 1 - s : 0) + s / static_cast<double>(c)) * (row[j] - lse);
      kept += 1;
    }
    losses.push_back(loss);
    total += loss;
  }
  if (r == Reduction::None) return losses;
  return {r == Reduction::Sum ? total : total / kept};
}

// PyTorch's class-weighted cross-entropy of [N, C] logits, written out in f64 from its
// definition: row loss -sum_j ((j == t) (1 - s) w_t + s / C w_j) log p_j, Mean divided by the sum
// of w_t over the rows kept.
std::vector<double> reference_weighted_cross_entropy(const Tensor& logits, const std::vector<int64_t>& target,
                                                     const std::vector<double>& w, Reduction r, int64_t ignore_index,
                                                     double s) {
  const int64_t n_rows = logits.size(0), c = logits.size(1);
  std::vector<double> x = to(logits, DType::F64).to_vector<double>();
  std::vector<double> losses;
  double total = 0, weight_sum = 0;
  for (int64_t n = 0; n < n_rows; ++n) {
    const double* row = x.data() + n * c;
    double m = row[0], z = 0, loss = 0;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, row[j]);
    for (int64_t j = 0; j < c; ++j) z += std::exp(row[j] - m);
    const double lse = m + std::log(z);
    const int64_t t = target[static_cast<size_t>(n)];
    if (t != ignore_index) {
      for (int64_t j = 0; j < c; ++j)
        loss -= ((j == t ? (1 - s) * w[static_cast<size_t>(t)] : 0) + s / static_cast<double>(c) * w[static_cast<size_t>(j)]) *
                (row[j] - lse);
      weight_sum += w[static_cast<size_t>(t)];
    }
    losses.push_back(loss);
    total += loss;
  }
  if (r == Reduction::None) return losses;
  return {r == Reduction::Sum ? total : total / weight_sum};
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(CrossEntropy, ForwardMatchesReferenceForEachOption) {
  Tensor logits = randn({6, 5}, {.dtype = DType::F64}) * 3.0;
  const std::vector<int64_t> t = {0, 4, 2, -100, 3, 1};
  Tensor target = from_vector<int64_t>(t, {6});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    for (double s : {0.0, 0.1})
      expect_near(cross_entropy(logits, target, r, -100, s).to_vector<double>(),
                  reference_cross_entropy(logits, t, r, -100, s), 1e-12);
  // Another ignore_index: -100 is now an (invalid) class; 2 is ignored.
  const std::vector<int64_t> t2 = {0, 4, 2, 2, 3, 1};
  expect_near(cross_entropy(logits, from_vector<int64_t>(t2, {6}), Reduction::Mean, 2, 0.2).to_vector<double>(),
              reference_cross_entropy(logits, t2, Reduction::Mean, 2, 0.2), 1e-12);
  // Hand-computed: logits [0, ln 3] -> p = [1/4, 3/4].
  Tensor two = from_vector<double>({0, std::log(3.0)}, {1, 2});
  EXPECT_NEAR(cross_entropy(two, from_vector<int64_t>({1}, {1})).item(), -std::log(0.75), 1e-12);
}

TEST(CrossEntropy, Float32FusedKernelMatchesFloat64) {
  Tensor logits = randn({40, 1000}, {.dtype = DType::F64}) * 10.0;
  Tensor target = randint(0, 1000, {40});
  for (double s : {0.0, 0.3}) {
    const double want = cross_entropy(logits, target, Reduction::Mean, -100, s).item();
    EXPECT_NEAR(cross_entropy(to(logits, DType::F32), target, Reduction::Mean, -100, s).item(), want, 1e-4 * want);
  }
}

// bf16 logits are read as they are and computed in f32: an f32 loss, a bf16 gradient, both
// close to the f32 computation on the same (bf16-exact) values.
TEST(CrossEntropy, Bfloat16LogitsGiveAFloat32Loss) {
  const Tensor logits = detach(to(randn({16, 300}) * 3.0, DType::BF16)).set_requires_grad();
  const Tensor target = randint(0, 300, {16});
  const Tensor loss = cross_entropy(logits, target, Reduction::Mean, -100, 0.1);
  EXPECT_EQ(loss.dtype(), DType::F32);
  backward(loss);
  EXPECT_EQ(logits.grad().dtype(), DType::BF16);
  const Tensor wide = detach(to(logits, DType::F32)).set_requires_grad();
  const Tensor want = cross_entropy(wide, target, Reduction::Mean, -100, 0.1);
  EXPECT_NEAR(loss.item(), want.item(), 1e-5 * std::abs(want.item()));
  backward(want);
  const std::vector<double> got = logits.grad().to_vector<double>(), ref = wide.grad().to_vector<double>();
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-2 * std::abs(ref[i]) + 1e-6) << i;
}

TEST(CrossEntropy, Gradients) {
  Tensor target = from_vector<int64_t>({0, 4, -100, 3}, {4});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    for (double s : {0.0, 0.25})
      EXPECT_GRADCHECK([=](const Inputs& in) { return cross_entropy(in[0], in[1], r, -100, s); }, {leaf({4, 5}), target});
  EXPECT_GRADCHECK([](const Inputs& in) { return cross_entropy(in[0], in[1], Reduction::Mean, 1); },
                   {transposed_leaf({4, 3}), from_vector<int64_t>({0, 1, 2, 1}, {4})});
  // Class dim second with extra dims, as PyTorch: [N, C, d] logits, [N, d] targets.
  EXPECT_GRADCHECK([](const Inputs& in) { return cross_entropy(in[0], in[1], Reduction::None, -100, 0.1); },
                   {leaf({2, 3, 4}), randint(0, 3, {2, 4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return cross_entropy(in[0], in[1]); }, {leaf({5}), scalar(2, {.dtype = DType::I64})});
}

TEST(CrossEntropy, ExtraDimsEqualTheFlattenedRows) {
  Tensor logits = randn({2, 3, 4}, {.dtype = DType::F64});
  Tensor target = randint(0, 3, {2, 4});
  Tensor rows = reshape(permute(logits, {0, 2, 1}), {8, 3});
  expect_near(cross_entropy(logits, target, Reduction::None).to_vector<double>(),
              cross_entropy(rows, reshape(target, {8}), Reduction::None).to_vector<double>(), 1e-12);
  EXPECT_EQ(cross_entropy(logits, target, Reduction::None).shape(), (Shape{2, 4}));
}

TEST(CrossEntropy, AllIgnoredMeanIsNaN) {
  EXPECT_TRUE(std::isnan(cross_entropy(randn({2, 3}), full({2}, -100, {.dtype = DType::I64})).item()));
}

TEST(CrossEntropy, Errors) {
  expect_error([] { cross_entropy(randn({3, 5}), from_vector<int64_t>({0, 7, 1}, {3})); },
               "cross_entropy: target 7 at row 1 is out of range for 5 classes");
  expect_error([] { cross_entropy(randn({3, 5}), from_vector<int64_t>({0, 1}, {2})); },
               "cross_entropy: target of shape [2] does not match scores of shape [3,5] (expected [3])");
  EXPECT_THROW(cross_entropy(randn({3, 5}), from_vector<int64_t>({0, -1, 1}, {3})), Error);
  EXPECT_THROW(cross_entropy(randn({3, 5}), zeros({3})), Error);
  EXPECT_THROW(cross_entropy(randn({3, 5}), zeros({3}, {.dtype = DType::I64}), Reduction::Mean, -100, 1.5), Error);
}

TEST(NllLoss, MatchesCrossEntropyOfLogSoftmax) {
  Tensor logits = randn({5, 4}, {.dtype = DType::F64});
  Tensor target = from_vector<int64_t>({1, -100, 3, 0, 2}, {5});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    expect_near(nll_loss(log_softmax(logits), target, r).to_vector<double>(),
                cross_entropy(logits, target, r).to_vector<double>(), 1e-12);
  EXPECT_NEAR(nll_loss(from_vector<double>({-1, -2, -3, -4}, {2, 2}), from_vector<int64_t>({1, 0}, {2})).item(), 2.5, 1e-12);
}

// Class weights: cross_entropy and nll_loss against the definition written out, every
// reduction, with and without label smoothing and ignored rows; gradchecks in f64.
TEST(CrossEntropy, ClassWeightMatchesReference) {
  Tensor logits = randn({6, 4}, {.dtype = DType::F64}) * 2.0;
  const std::vector<int64_t> t = {0, 3, 2, -100, 3, 1};
  const std::vector<double> w = {0.5, 2.0, 1.0, 3.0};
  Tensor target = from_vector<int64_t>(t, {6}), weight = from_vector<double>(w, {4});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    for (double s : {0.0, 0.2}) {
      SCOPED_TRACE(::testing::Message() << "reduction " << static_cast<int>(r) << " smoothing " << s);
      expect_near(cross_entropy(logits, target, r, -100, s, weight).to_vector<double>(),
                  reference_weighted_cross_entropy(logits, t, w, r, -100, s), 1e-12);
      if (s == 0)
        expect_near(nll_loss(log_softmax(logits), target, r, -100, weight).to_vector<double>(),
                    reference_weighted_cross_entropy(logits, t, w, r, -100, 0), 1e-12);
      EXPECT_GRADCHECK([=](const Inputs& in) { return cross_entropy(in[0], in[1], r, -100, s, in[2]); },
                       {leaf({6, 4}), target, weight});
    }
  // Unit weights are the unweighted loss.
  expect_near(cross_entropy(logits, target, Reduction::Mean, -100, 0.1, ones({4}, {.dtype = DType::F64})).to_vector<double>(),
              cross_entropy(logits, target, Reduction::Mean, -100, 0.1).to_vector<double>(), 1e-12);
  // Hand-computed: log-probs [[-1, -2], [-3, -4]], targets [1, 0], weights [2, 1]:
  // (1 * 2 + 2 * 3) / (1 + 2) = 8 / 3 (PyTorch: F.nll_loss(lp, t, weight=w) = 2.6667).
  EXPECT_NEAR(nll_loss(from_vector<double>({-1, -2, -3, -4}, {2, 2}), from_vector<int64_t>({1, 0}, {2}), Reduction::Mean,
                       -100, from_vector<double>({2, 1}, {2}))
                  .item(),
              8.0 / 3.0, 1e-12);
  // [N, C, d] logits with a weight; f32 logits with an f32 weight.
  EXPECT_GRADCHECK([](const Inputs& in) { return cross_entropy(in[0], in[1], Reduction::Mean, -100, 0.0, in[2]); },
                   {leaf({2, 3, 4}), randint(0, 3, {2, 4}), from_vector<double>({1, 0.5, 2}, {3})});
  Tensor l32 = to(logits, DType::F32);
  EXPECT_NEAR(cross_entropy(l32, target, Reduction::Mean, -100, 0.0, to(weight, DType::F32)).item(),
              reference_weighted_cross_entropy(logits, t, w, Reduction::Mean, -100, 0)[0], 1e-5);
  expect_error([&] { cross_entropy(logits, target, Reduction::Mean, -100, 0.0, ones({3}, {.dtype = DType::F64})); },
               "cross_entropy: weight of shape [3] must be [C] for C = 4 classes");
  expect_error([&] { nll_loss(logits, target, Reduction::Mean, -100, ones({5}, {.dtype = DType::F64})); },
               "nll_loss: weight of shape [5] must be [C] for C = 4 classes");
}

// PyTorch: F.nll_loss(lp, torch.full((3,), -100)) is NaN (0 / 0) and its gradient all zeros.
// ember's used to have NaN in column 0 of each ignored row (inf * 0 through the mask).
TEST(NllLoss, AllIgnoredMeanIsNaNWithZeroGradient) {
  Tensor ignored = full({3}, -100, {.dtype = DType::I64});
  for (bool weighted : {false, true}) {
    SCOPED_TRACE(weighted ? "weighted" : "unweighted");
    Tensor lp = leaf({3, 4});
    Tensor w = weighted ? from_vector<double>({1, 2, 3, 4}, {4}) : Tensor();
    Tensor loss = nll_loss(lp, ignored, Reduction::Mean, -100, w);
    EXPECT_TRUE(std::isnan(loss.item()));
    backward(loss);
    EXPECT_EQ(lp.grad().to_vector<double>(), std::vector<double>(12, 0.0));
    Tensor logits = leaf({3, 4});
    Tensor ce = cross_entropy(logits, ignored, Reduction::Mean, -100, 0.0, w);
    EXPECT_TRUE(std::isnan(ce.item()));
    backward(ce);
    EXPECT_EQ(logits.grad().to_vector<double>(), std::vector<double>(12, 0.0));
  }
  // Sum and None: 0 and zeros, gradient zeros.
  Tensor lp = leaf({3, 4});
  EXPECT_EQ(nll_loss(lp, ignored, Reduction::Sum).item(), 0.0);
  EXPECT_EQ(nll_loss(lp, ignored, Reduction::None).to_vector<double>(), std::vector<double>(3, 0.0));
}

TEST(NllLoss, GradientsAndErrors) {
  EXPECT_GRADCHECK([](const Inputs& in) { return nll_loss(in[0], in[1]); },
                   {leaf({4, 3}), from_vector<int64_t>({2, 0, -100, 1}, {4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return nll_loss(in[0], in[1], Reduction::None); },
                   {transposed_leaf({2, 3, 4}), randint(0, 3, {2, 4})});
  expect_error([] { nll_loss(randn({2, 3}), from_vector<int64_t>({3, 0}, {2})); },
               "nll_loss: target 3 at row 0 is out of range for 3 classes");
}

TEST(MseLoss, ValuesGradientsAndErrors) {
  Tensor p = from_vector<double>({1, 2, 3}, {3}), t = from_vector<double>({2, 2, 5}, {3});
  EXPECT_NEAR(mse_loss(p, t).item(), 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(mse_loss(p, t, Reduction::Sum).item(), 5.0, 1e-12);
  EXPECT_EQ(mse_loss(p, t, Reduction::None).to_vector<double>(), (std::vector<double>{1, 0, 4}));
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    EXPECT_GRADCHECK([r](const Inputs& in) { return mse_loss(in[0], in[1], r); }, {transposed_leaf({3, 4}), leaf({3, 4})});
  expect_error([] { mse_loss(zeros({2, 3}), zeros({3})); }, "mse_loss: input of shape [2,3] and target of shape [3] differ");
}

TEST(BinaryCrossEntropyWithLogits, ValuesAreStableAndGradientsCheck) {
  Tensor x = from_vector<double>({0.5, -1.0, 100.0, -100.0}, {4}), y = from_vector<double>({1, 0, 0, 1}, {4});
  auto sigmoid_of = [](double v) { return 1 / (1 + std::exp(-v)); };
  std::vector<double> got = binary_cross_entropy_with_logits(x, y, Reduction::None).to_vector<double>();
  expect_near(got, {-std::log(sigmoid_of(0.5)), -std::log(1 - sigmoid_of(-1.0)), 100.0, 100.0}, 1e-12);
  EXPECT_NEAR(binary_cross_entropy_with_logits(x, y, Reduction::Sum).item(), got[0] + got[1] + got[2] + got[3], 1e-12);
  EXPECT_GRADCHECK([](const Inputs& in) { return binary_cross_entropy_with_logits(in[0], in[1]); },
                   {transposed_leaf({3, 4}), (rand({3, 4}, {.dtype = DType::F64}) * 1.0).set_requires_grad()});
  expect_error([] { binary_cross_entropy_with_logits(zeros({2}), zeros({3})); },
               "binary_cross_entropy_with_logits: input of shape [2] and target of shape [3] differ");
}

// pos_weight p: -[p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], p broadcast over the last
// dim. Against the definition, and a value worked out by hand: x = 0, y = 1, p = 3 gives
// 3 log 2 (PyTorch: F.binary_cross_entropy_with_logits(0., 1., pos_weight=3.) = 2.0794).
TEST(BinaryCrossEntropyWithLogits, PosWeight) {
  Tensor x = randn({4, 3}, {.dtype = DType::F64}) * 3.0, y = rand({4, 3}, {.dtype = DType::F64});
  Tensor p = from_vector<double>({0.5, 1, 4}, {3});
  std::vector<double> xv = x.to_vector<double>(), yv = y.to_vector<double>(), pv = p.to_vector<double>();
  std::vector<double> want;
  double total = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    const double sig = 1 / (1 + std::exp(-xv[i]));
    want.push_back(-(pv[i % 3] * yv[i] * std::log(sig) + (1 - yv[i]) * std::log(1 - sig)));
    total += want.back();
  }
  expect_near(binary_cross_entropy_with_logits(x, y, Reduction::None, p).to_vector<double>(), want, 1e-12);
  EXPECT_NEAR(binary_cross_entropy_with_logits(x, y, Reduction::Sum, p).item(), total, 1e-11);
  EXPECT_NEAR(binary_cross_entropy_with_logits(x, y, Reduction::Mean, p).item(), total / 12, 1e-12);
  EXPECT_NEAR(binary_cross_entropy_with_logits(from_vector<double>({0}, {1}), from_vector<double>({1}, {1}), Reduction::Mean,
                                               from_vector<double>({3}, {1}))
                  .item(),
              3 * std::log(2.0), 1e-14);
  // Stable at large |x|: x = -100, y = 1, p = 2 gives 2 * 100.
  EXPECT_NEAR(binary_cross_entropy_with_logits(from_vector<double>({-100}, {1}), from_vector<double>({1}, {1}),
                                               Reduction::Mean, from_vector<double>({2}, {1}))
                  .item(),
              200.0, 1e-12);
  // pos_weight 1 is the plain loss.
  expect_near(binary_cross_entropy_with_logits(x, y, Reduction::None, ones({3}, {.dtype = DType::F64})).to_vector<double>(),
              binary_cross_entropy_with_logits(x, y, Reduction::None).to_vector<double>(), 1e-12);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    EXPECT_GRADCHECK([r](const Inputs& in) { return binary_cross_entropy_with_logits(in[0], in[1], r, in[2]); },
                     {transposed_leaf({3, 4}), rand({3, 4}, {.dtype = DType::F64}).set_requires_grad(),
                      positive_leaf({4})});
  EXPECT_THROW(binary_cross_entropy_with_logits(x, y, Reduction::Mean, ones({4}, {.dtype = DType::F64})), Error);
}

}  // namespace
}  // namespace ember
