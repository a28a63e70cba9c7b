#include <cmath>

#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

template <typename F>
void expect_error(F f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "expected an error containing: " << text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

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

}  // namespace
}  // namespace ember
