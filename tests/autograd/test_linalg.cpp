#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

Tensor mm(const Inputs& in) { return matmul(in[0], in[1]); }

TEST(Linalg, GradientsOfEveryRankCombination) {
  EXPECT_GRADCHECK(mm, {leaf({5}), leaf({5})});              // dot
  EXPECT_GRADCHECK(mm, {leaf({3, 5}), leaf({5})});           // matrix x vector
  EXPECT_GRADCHECK(mm, {leaf({5}), leaf({5, 4})});           // vector x matrix
  EXPECT_GRADCHECK(mm, {leaf({3, 5}), leaf({5, 4})});        // matrix x matrix
  EXPECT_GRADCHECK(mm, {leaf({2, 3, 5}), leaf({2, 5, 4})});  // batched
  EXPECT_GRADCHECK(mm, {leaf({2, 3, 5}), leaf({5})});        // batched x vector
  EXPECT_GRADCHECK(mm, {leaf({5}), leaf({2, 5, 4})});        // vector x batched
}

TEST(Linalg, GradientsWithBroadcastBatchDims) {
  EXPECT_GRADCHECK(mm, {leaf({2, 1, 3, 4}), leaf({5, 4, 2})});
  EXPECT_GRADCHECK(mm, {leaf({2, 3, 4}), leaf({4, 2})});        // folded into one [6,4] x [4,2]
  EXPECT_GRADCHECK(mm, {leaf({3, 4}), leaf({2, 2, 4, 3})});     // matrix broadcast over a batch
  EXPECT_GRADCHECK(mm, {leaf({1, 3, 4}), leaf({2, 1, 4, 2})});  // size-1 batch dims on both sides
}

TEST(Linalg, GradientsOfTransposedInputs) {
  EXPECT_GRADCHECK(mm, {transposed_leaf({3, 5}), leaf({5, 4})});
  EXPECT_GRADCHECK(mm, {leaf({3, 5}), transposed_leaf({5, 4})});
  EXPECT_GRADCHECK(mm, {transposed_leaf({2, 3, 5}), transposed_leaf({2, 5, 4})});
  EXPECT_GRADCHECK(mm, {transposed_leaf({2, 3, 4}), leaf({4, 2})});  // rows do not merge: not folded
  EXPECT_GRADCHECK([](const Inputs& in) { return matmul(slice(in[0], 1, 0, 6, 2), in[1]); },
                   {leaf({3, 6}), leaf({3, 2})});  // strided in both dims: copied
}

// linear multiplies by the transposed weight; the weight's gradient still arrives contiguous
// (and correct: the gradient checks above cover transposed operands).
TEST(Linalg, LinearWeightGradientIsContiguous) {
  const Tensor x = leaf({2, 3, 5}), w = leaf({4, 5}), b = leaf({4});
  EXPECT_GRADCHECK([](const Inputs& in) { return linear(in[0], in[1], in[2]); }, {x, w, b});
  w.set_grad(Tensor());
  backward(sum(linear(x, w, b)));
  EXPECT_TRUE(w.grad().is_contiguous());
  EXPECT_EQ(w.grad().shape(), w.shape());
}

TEST(Linalg, GradientOnlyForTheOperandThatNeedsIt) {
  Tensor a = leaf({3, 4}), b = randn({4, 2}, {.dtype = DType::F64});
  EXPECT_GRADCHECK(mm, {a, b});
  EXPECT_FALSE(b.grad().defined());
}

TEST(Linalg, ForwardValues) {
  Tensor a = from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = from_vector<float>({5, 6, 7, 8}, {2, 2});
  EXPECT_EQ(matmul(a, b).to_vector<float>(), (std::vector<float>{19, 22, 43, 50}));
  EXPECT_EQ(matmul(a, transpose(b, 0, 1)).to_vector<float>(), (std::vector<float>{17, 23, 39, 53}));
  Tensor dot = matmul(from_vector<float>({1, 2, 3}, {3}), from_vector<float>({4, 5, 6}, {3}));
  EXPECT_EQ(dot.shape(), Shape{});
  EXPECT_EQ(dot.item(), 32.0);
  Tensor v = from_vector<double>({1, -1}, {2});
  EXPECT_EQ(matmul(to(a, DType::F64), v).to_vector<double>(), (std::vector<double>{-1, -1}));
  EXPECT_EQ(matmul(v, to(a, DType::F64)).to_vector<double>(), (std::vector<double>{-2, -2}));
}

TEST(Linalg, OutputShapes) {
  EXPECT_EQ(matmul(ones({2, 1, 3, 4}), ones({5, 4, 6})).shape(), (Shape{2, 5, 3, 6}));
  EXPECT_EQ(matmul(ones({3}), ones({2, 3, 4})).shape(), (Shape{2, 4}));
  EXPECT_EQ(matmul(ones({2, 3, 4}), ones({4})).shape(), (Shape{2, 3}));
  EXPECT_EQ(matmul(ones({2, 3, 4}), ones({4, 5})).shape(), (Shape{2, 3, 5}));
  Tensor empty_inner = matmul(ones({2, 3, 0}), ones({0, 4}));
  EXPECT_EQ(empty_inner.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(empty_inner.to_vector<float>(), std::vector<float>(24, 0.0f));
}

// The product in double by the textbook triple loop, from the operands' logical values.
std::vector<double> naive(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>(), out(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        out[static_cast<size_t>(i * n + j)] += av[static_cast<size_t>(i * k + p)] * bv[static_cast<size_t>(p * n + j)];
  return out;
}

// max |x - ref| / max |ref|: relative to the result's scale, robust to entries near 0.
double rel_error(const std::vector<double>& x, const std::vector<double>& ref) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err = std::max(err, std::abs(x[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / scale;
}

// A random [rows, cols] f32 matrix, stored transposed when asked.
Tensor matrix(int64_t rows, int64_t cols, bool transposed) {
  return transposed ? transpose(randn({cols, rows}), 0, 1) : randn({rows, cols});
}

TEST(Linalg, F32MatchesNaiveProductInDouble) {
  const std::vector<std::array<int64_t, 3>> shapes{{1, 1, 1}, {7, 13, 5}, {64, 3, 129}, {128, 784, 512}};
  for (auto [m, k, n] : shapes)
    for (int layout = 0; layout < 4; ++layout) {
      SCOPED_TRACE(::testing::Message() << m << "x" << k << "x" << n << " layout " << layout);
      Tensor a = matrix(m, k, layout & 1), b = matrix(k, n, layout & 2);
      EXPECT_LT(rel_error(matmul(a, b).to_vector<double>(), naive(a, b)), 1e-5);
    }
}

TEST(Linalg, F32BatchedBroadcastMatchesNaive) {
  Tensor a = randn({2, 1, 9, 16}), b = transpose(randn({3, 11, 16}), -1, -2);
  Tensor out = matmul(a, b);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      EXPECT_LT(rel_error(select(select(out, 0, i), 0, j).to_vector<double>(),
                          naive(select(select(a, 0, i), 0, 0), select(b, 0, j))),
                1e-5);
}

// A view sliced with a step along the rows has a batch stride below rows x row stride
// ([2, 4, 4] with strides [44, 12, 1]): legal in the tensor model (and in PyTorch), refused by
// oneDNN's memory descriptors, so the f32 path copies it. Every dtype, both operand positions,
// matmul and linear, against the product of contiguous copies.
TEST(Linalg, BatchStrideBelowMatrixSpan) {
  for (DType dtype : {DType::F32, DType::F64, DType::BF16}) {
    SCOPED_TRACE(::testing::Message() << dtype);
    auto r = [&](const Shape& shape) { return to(randn(shape), dtype); };
    Tensor a = slice(r({2, 11, 4}), 1, 0, 11, 3);
    ASSERT_EQ(a.shape(), (Shape{2, 4, 4}));
    ASSERT_EQ(a.strides(), (Strides{44, 12, 1}));
    Tensor b = slice(r({2, 11, 4}), 1, 1, 11, 3);
    Tensor ac = contiguous(a), bc = contiguous(b);
    const double tol = dtype == DType::BF16 ? 1e-2 : 1e-6;
    auto close = [&](const Tensor& x, const Tensor& y) {
      EXPECT_LT(rel_error(to(x, DType::F64).to_vector<double>(), to(y, DType::F64).to_vector<double>()), tol);
    };
    close(matmul(a, b), matmul(ac, bc));
    close(matmul(a, transpose(b, -1, -2)), matmul(ac, transpose(bc, -1, -2)));
    close(matmul(transpose(a, -1, -2), b), matmul(transpose(ac, -1, -2), bc));
    Tensor w = r({5, 4}), bias = r({5});
    close(linear(a, w, bias), linear(ac, w, bias));
    // A larger batch of a longer step.
    Tensor big = slice(r({3, 17, 6}), 1, 2, 17, 4);  // [3, 4, 6], strides [102, 24, 1]
    Tensor w2 = r({6, 3});
    close(matmul(big, w2), matmul(contiguous(big), w2));
  }
  // And its gradients, in f64 through gradcheck.
  Tensor a = detach(slice(randn({2, 11, 4}, {.dtype = DType::F64}), 1, 0, 11, 3)).set_requires_grad();
  Tensor b = detach(slice(randn({2, 11, 4}, {.dtype = DType::F64}), 1, 1, 11, 3)).set_requires_grad();
  EXPECT_GRADCHECK(mm, {a, b});
}

TEST(Linalg, Bf16MatchesF32) {
  Tensor a = randn({3, 40, 70}), b = transpose(randn({70, 50}), 0, 1);
  Tensor b_t = transpose(b, 0, 1);
  std::vector<double> ref = matmul(a, b_t).to_vector<double>();
  Tensor out = matmul(to(a, DType::BF16), to(b_t, DType::BF16));
  EXPECT_EQ(out.dtype(), DType::BF16);
  EXPECT_LT(rel_error(out.to_vector<double>(), ref), 1e-2);
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Linalg, ErrorsNameTheOpAndShapes) {
  EXPECT_EQ(error_of([] { matmul(zeros({2, 3}), zeros({4, 5})); }), "matmul: [2,3] x [4,5]: inner dimensions 3 and 4 differ");
  EXPECT_EQ(error_of([] { matmul(zeros({3}), zeros({4})); }), "matmul: [3] x [4]: inner dimensions 3 and 4 differ");
  EXPECT_EQ(error_of([] { matmul(zeros({2, 3, 4}), zeros({5, 4, 6})); }),
            "matmul: [2,3,4] x [5,4,6]: batch dimensions [2] and [5] cannot be broadcast");
  EXPECT_NE(error_of([] { matmul(scalar(2.0), zeros({3})); }).find("matmul: [] x [3]: 0-d"), std::string::npos);
  EXPECT_NE(error_of([] { matmul(zeros({2, 3}), zeros({3, 2}, {.dtype = DType::F64})); }).find("matmul: dtype mismatch"),
            std::string::npos);
  EXPECT_NE(error_of([] { matmul(zeros({2, 3}, {.dtype = DType::I64}), zeros({3, 2}, {.dtype = DType::I64})); })
                .find("matmul: expected a floating tensor"),
            std::string::npos);
}

}  // namespace
}  // namespace ember
