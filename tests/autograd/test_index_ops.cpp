#include "tests/testing.h"

namespace ember {
namespace {

using testing::leaf;
using testing::transposed_leaf;
using Inputs = std::vector<Tensor>;

Tensor indices(const std::vector<int64_t>& values, const Shape& shape) { return from_vector<int64_t>(values, shape); }

using ::ember::testing::expect_error;

TEST(Cat, GradientsAlongEveryDimIncludingNonContiguous) {
  EXPECT_GRADCHECK([](const Inputs& in) { return cat(in, 0); }, {leaf({2, 3}), transposed_leaf({1, 3}), leaf({4, 3})});
  EXPECT_GRADCHECK([](const Inputs& in) { return cat(in, 1); }, {transposed_leaf({3, 2}), leaf({3, 4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return cat(in, -1); }, {leaf({2, 2, 1}), leaf({2, 2, 3})});
  // A tensor that appears twice gets both slices of the gradient.
  EXPECT_GRADCHECK([](const Inputs& in) { return cat({in[0], in[0] * 2.0}, 0); }, {leaf({2, 3})});
}

TEST(Cat, ForwardValues) {
  Tensor a = from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = from_vector<float>({5, 6}, {2, 1});
  EXPECT_EQ(cat({a, b}, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(cat({a, b}, 1).to_vector<float>(), (std::vector<float>{1, 2, 5, 3, 4, 6}));
  EXPECT_EQ(cat({a, transpose(a, 0, 1)}, 0).to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 1, 3, 2, 4}));
}

TEST(Cat, ErrorsNameTheOpAndShapes) {
  expect_error([] { cat({zeros({2, 3}), zeros({2, 4})}, 0); },
               "cat: tensor 1 has shape [2,4], expected [*,3] (the shape of tensor 0, [2,3], except in dim 0)");
  expect_error([] { cat({zeros({2, 3}), zeros({3})}, 1); }, "cat: tensor 1 has shape [3], expected [2,*]");
  expect_error([] { cat({}, 0); }, "cat: expected a non-empty list");
  expect_error([] { cat({zeros({2}), zeros({2}, {.dtype = DType::F64})}, 0); }, "cat: dtype mismatch");
  expect_error([] { cat({zeros({2})}, 1); }, "cat: dim 1 is out of range");
  expect_error([] { cat({scalar(1.0)}, 0); }, "cat: expected a tensor of rank >= 1");
}

TEST(Stack, GradientsAndValues) {
  EXPECT_GRADCHECK([](const Inputs& in) { return stack(in, 0); }, {leaf({2, 3}), transposed_leaf({2, 3})});
  EXPECT_GRADCHECK([](const Inputs& in) { return stack(in, 1); }, {leaf({2, 3}), leaf({2, 3}), leaf({2, 3})});
  EXPECT_GRADCHECK([](const Inputs& in) { return stack(in, -1); }, {transposed_leaf({3, 2}), leaf({3, 2})});
  Tensor a = from_vector<float>({1, 2}, {2}), b = from_vector<float>({3, 4}, {2});
  EXPECT_EQ(stack({a, b}, 0).shape(), (Shape{2, 2}));
  EXPECT_EQ(stack({a, b}, 1).to_vector<float>(), (std::vector<float>{1, 3, 2, 4}));
  expect_error([] { stack({zeros({2, 3}), zeros({3, 2})}, 0); },
               "stack: tensor 1 has shape [3,2], expected [2,3]");
  expect_error([] { stack({}, 0); }, "stack: expected a non-empty list");
}

TEST(Split, PiecesAreViewsWithASmallerLastPiece) {
  Tensor x = arange(0, 10).set_requires_grad();
  std::vector<Tensor> pieces = split(x, 4, 0);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].to_vector<float>(), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(pieces[2].to_vector<float>(), (std::vector<float>{8, 9}));
  EXPECT_EQ(pieces[1].storage(), x.storage());
  std::vector<Tensor> sized = split(x, std::vector<int64_t>{1, 0, 9}, 0);
  ASSERT_EQ(sized.size(), 3u);
  EXPECT_EQ(sized[1].numel(), 0);
  EXPECT_EQ(sized[2].to_vector<float>()[0], 1.0f);
  std::vector<Tensor> chunks = chunk(x, 3, 0);  // ceil(10 / 3) = 4: sizes 4, 4, 2
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[2].shape(), (Shape{2}));
  EXPECT_EQ(chunk(arange(0, 4), 3, 0).size(), 2u);  // sizes 2, 2, as in PyTorch
}

TEST(Split, GradientsFlowThroughEveryPiece) {
  EXPECT_GRADCHECK([](const Inputs& in) {
    std::vector<Tensor> p = split(in[0], 2, 1);
    return cat({p[2], p[0] * 2.0, p[1] * 3.0}, 1);
  }, {transposed_leaf({3, 5})});
  EXPECT_GRADCHECK([](const Inputs& in) {
    std::vector<Tensor> p = split(in[0], std::vector<int64_t>{1, 3}, -1);
    return p[1] * 2.0 + p[0];  // broadcasts the [2, 1] piece
  }, {leaf({2, 4})});
  EXPECT_GRADCHECK([](const Inputs& in) {
    std::vector<Tensor> p = chunk(in[0], 2, 0);
    return p[0] * p[1];
  }, {transposed_leaf({4, 3})});
}

TEST(Split, ErrorsNameTheOpAndShapes) {
  expect_error([] { split(zeros({2, 6}), std::vector<int64_t>{2, 3}, 1); },
               "split: sizes [2,3] add up to 5, but dim 1 of shape [2,6] has size 6");
  expect_error([] { split(zeros({2, 6}), 0, 1); }, "split: split_size must be positive, got 0 for shape [2,6]");
  expect_error([] { chunk(zeros({2, 6}), 0, 1); }, "chunk: chunks must be positive");
}

TEST(IndexSelect, GradientsWithRepeatedAndNonContiguousIndices) {
  Tensor repeated = indices({2, 0, 2, 2, 1}, {5});
  EXPECT_GRADCHECK([&](const Inputs& in) { return index_select(in[0], 0, repeated); }, {leaf({3, 4})});
  EXPECT_GRADCHECK([&](const Inputs& in) { return index_select(in[0], 1, repeated); }, {transposed_leaf({2, 3})});
  Tensor strided = slice(indices({3, 9, 0, 9, 3, 9}, {6}), 0, 0, 6, 2);  // {3, 0, 3}
  EXPECT_GRADCHECK([&](const Inputs& in) { return index_select(in[0], -1, strided); }, {leaf({2, 2, 4})});
}

TEST(IndexSelect, ForwardValues) {
  Tensor x = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(index_select(x, 1, indices({2, 0, 2}, {3})).to_vector<float>(), (std::vector<float>{3, 1, 3, 6, 4, 6}));
  EXPECT_EQ(index_select(x, 0, indices({1}, {1})).to_vector<float>(), (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(index_select(x, 0, indices({}, {0})).shape(), (Shape{0, 3}));
  Tensor ints = from_vector<int64_t>({7, 8, 9}, {3});
  EXPECT_EQ(index_select(ints, 0, indices({2, 2}, {2})).to_vector<int64_t>(), (std::vector<int64_t>{9, 9}));
}

TEST(IndexSelect, ErrorsNameTheOpAndShapes) {
  Tensor x = zeros({2, 4});
  expect_error([&] { index_select(x, 1, indices({0, 4}, {2})); },
               "index_select: index 4 is out of range for dim 1 of size 4 in shape [2,4]");
  expect_error([&] { index_select(x, 0, indices({-1}, {1})); }, "index_select: index -1 is out of range for dim 0");
  expect_error([&] { index_select(x, 0, zeros({2})); }, "index_select: index must be i64, got f32 of shape [2]");
  expect_error([&] { index_select(x, 0, indices({0, 1}, {1, 2})); }, "index_select: index must be 1-D, got shape [1,2]");
}

TEST(Gather, GradientsWithRepeatedAndNonContiguousIndices) {
  Tensor rows = indices({0, 2, 2, 1, 0, 0, 2, 2}, {2, 4});
  EXPECT_GRADCHECK([&](const Inputs& in) { return gather(in[0], 0, rows); }, {leaf({3, 4})});
  Tensor cols = indices({1, 1, 0, 2, 2, 2}, {3, 2});  // fewer rows than x: index may be smaller
  EXPECT_GRADCHECK([&](const Inputs& in) { return gather(in[0], 1, cols); }, {transposed_leaf({4, 3})});
  Tensor transposed = transpose(indices({0, 1, 1, 1, 0, 0}, {2, 3}), 0, 1);  // [3, 2], non-contiguous
  EXPECT_GRADCHECK([&](const Inputs& in) { return gather(in[0], -1, transposed); }, {leaf({3, 2})});
}

TEST(Gather, ForwardValues) {
  Tensor x = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  // out[i][j] = x[i][index[i][j]]
  EXPECT_EQ(gather(x, 1, indices({2, 2, 0, 1}, {2, 2})).to_vector<float>(), (std::vector<float>{3, 3, 4, 5}));
  // out[i][j] = x[index[i][j]][j]
  EXPECT_EQ(gather(x, 0, indices({1, 0, 1}, {1, 3})).to_vector<float>(), (std::vector<float>{4, 2, 6}));
}

TEST(Gather, ErrorsNameTheOpAndShapes) {
  Tensor x = zeros({2, 3});
  expect_error([&] { gather(x, 0, indices({0, 1}, {2})); },
               "gather: index of shape [2] must have the rank of x [2,3] and no larger size in any dim but dim 0");
  expect_error([&] { gather(x, 0, indices({0, 0, 0, 0}, {1, 4})); }, "gather: index of shape [1,4]");
  expect_error([&] { gather(x, 1, indices({0, 3}, {1, 2})); },
               "gather: index 3 is out of range for dim 1 of size 3 in shape [2,3]");
}

TEST(ScatterAdd, GradientsForXAndSrcWithRepeatedIndices) {
  Tensor index = indices({0, 2, 0, 0, 1, 0}, {2, 3});
  EXPECT_GRADCHECK([&](const Inputs& in) { return scatter_add(in[0], 1, index, in[1]); },
                   {leaf({2, 4}), leaf({2, 3})});
  EXPECT_GRADCHECK([&](const Inputs& in) { return scatter_add(in[0], 0, index, in[1]); },
                   {transposed_leaf({3, 4}), transposed_leaf({2, 3})});
  Tensor transposed = transpose(indices({1, 1, 0, 2, 1, 1}, {3, 2}), 0, 1);  // [2, 3], non-contiguous
  EXPECT_GRADCHECK([&](const Inputs& in) { return scatter_add(in[0], -1, transposed, in[1]); },
                   {leaf({2, 3}), leaf({2, 3})});
}

TEST(ScatterAdd, ForwardValuesLeaveXUnchanged) {
  Tensor x = from_vector<float>({1, 1, 1, 1, 1, 1}, {2, 3});
  Tensor src = from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor out = scatter_add(x, 1, indices({2, 2, 0, 1}, {2, 2}), src);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{1, 1, 4, 4, 5, 1}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>(6, 1.0f)));
  Tensor down = scatter_add(x, 0, indices({1, 1}, {1, 2}), from_vector<float>({5, 7}, {1, 2}));
  EXPECT_EQ(down.to_vector<float>(), (std::vector<float>{1, 1, 1, 6, 8, 1}));
}

TEST(ScatterAdd, ErrorsNameTheOpAndShapes) {
  Tensor x = zeros({2, 3});
  expect_error([&] { scatter_add(x, 1, indices({0, 1}, {1, 2}), zeros({1, 3})); },
               "scatter_add: index shape [1,2] differs from src shape [1,3]");
  expect_error([&] { scatter_add(x, 0, indices({2, 0}, {1, 2}), zeros({1, 2})); },
               "scatter_add: index 2 is out of range for dim 0 of size 2 in shape [2,3]");
  expect_error([&] { scatter_add(x, 0, indices({0}, {1, 1}), zeros({1, 1}, {.dtype = DType::F64})); },
               "scatter_add: dtype mismatch");
}

TEST(OneHot, ValuesShapeAndErrors) {
  Tensor y = one_hot(indices({2, 0, 1, 2}, {2, 2}), 3);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1}));
  Tensor strided = slice(indices({1, 5, 0, 5}, {4}), 0, 0, 4, 2);
  EXPECT_EQ(one_hot(strided, 2, DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1, 0}));
  expect_error([] { one_hot(indices({0, 3}, {2}), 3); },
               "one_hot: index [2] with 3 classes: scatter_add: index 3 is out of range for dim 1 of size 3");
  expect_error([] { one_hot(zeros({2}), 3); }, "one_hot: index must be i64");
  expect_error([] { one_hot(indices({0}, {1}), 0); }, "one_hot: num_classes must be positive");
}

TEST(Embedding, GradientsSumRepeatedRows) {
  Tensor ids = indices({3, 0, 3, 3, 1, 0}, {2, 3});
  EXPECT_GRADCHECK([&](const Inputs& in) { return embedding(in[0], ids); }, {leaf({4, 5})});
  EXPECT_GRADCHECK([&](const Inputs& in) { return embedding(in[0], transpose(ids, 0, 1)); }, {transposed_leaf({4, 3})});
  Tensor w = zeros({4, 2}).set_requires_grad();
  backward(sum(embedding(w, ids)));
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{2, 2, 1, 1, 0, 0, 3, 3}));
}

TEST(Embedding, ForwardValuesAndErrors) {
  Tensor w = from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor y = embedding(w, indices({2, 0, 2}, {3, 1}));
  EXPECT_EQ(y.shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{5, 6, 1, 2, 5, 6}));
  EXPECT_EQ(embedding(w, scalar(1.0, {.dtype = DType::I64})).to_vector<float>(), (std::vector<float>{3, 4}));
  expect_error([&] { embedding(w, indices({0, 3}, {2})); },
               "embedding: weight [3,2], indices [2]: index_select: index 3 is out of range for dim 0 of size 3");
  expect_error([&] { embedding(zeros({6}), indices({0}, {1})); }, "embedding: weight must be 2-D");
  expect_error([&] { embedding(w, zeros({2})); }, "embedding: indices must be i64, got f32 of shape [2]");
}

// Sizes past the CPU backend's parallel threshold, against plain loops: the OpenMP paths of
// gather and scatter_add must give the sequential answer.
TEST(IndexKernels, LargeGatherAndScatterMatchPlainLoops) {
  const int64_t n = 3, k = 5, width = 40000;
  Tensor x = to(randint(-50, 50, {n, width}), DType::F64);
  Tensor index = randint(0, n, {k, width});
  Tensor src = to(randint(-50, 50, {k, width}), DType::F64);
  std::vector<double> xv = x.to_vector<double>(), sv = src.to_vector<double>();
  std::vector<int64_t> iv = index.to_vector<int64_t>();
  std::vector<double> gathered(static_cast<size_t>(k * width)), scattered = xv;
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < width; ++j) {
      const size_t at = static_cast<size_t>(i * width + j);
      gathered[at] = xv[static_cast<size_t>(iv[at] * width + j)];
      scattered[static_cast<size_t>(iv[at] * width + j)] += sv[at];
    }
  EXPECT_EQ(gather(x, 0, index).to_vector<double>(), gathered);
  EXPECT_EQ(scatter_add(x, 0, index, src).to_vector<double>(), scattered);
  Tensor rows = randint(0, n, {k});
  Tensor table = x.set_requires_grad();
  backward(embedding(table, rows), src);
  std::vector<double> expected(static_cast<size_t>(n * width), 0.0);
  std::vector<int64_t> rv = rows.to_vector<int64_t>();
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < width; ++j)
      expected[static_cast<size_t>(rv[static_cast<size_t>(i)] * width + j)] += sv[static_cast<size_t>(i * width + j)];
  EXPECT_EQ(table.grad().to_vector<double>(), expected);
}

}  // namespace
}  // namespace ember
