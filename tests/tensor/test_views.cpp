#include "tests/testing.h"

namespace ember {
namespace {

using Inputs = std::vector<Tensor>;
using testing::leaf;
using testing::transposed_leaf;

Tensor iota(const Shape& shape) { return reshape(arange(0, static_cast<double>(numel_of(shape))), shape); }

TEST(Views, ShareStorageAndVersion) {
  Tensor x = iota({2, 3});
  Tensor t = transpose(x, 0, 1);
  EXPECT_EQ(t.storage(), x.storage());
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  fill_(select(x, 0, 1), 9.0);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 9, 1, 9, 2, 9}));
  EXPECT_EQ(t.version(), x.version());
}

TEST(Views, ReshapeViewsWhenPossibleAndCopiesOtherwise) {
  Tensor x = iota({2, 3, 4});
  Tensor r = reshape(x, {6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_EQ(r.storage(), x.storage());
  Tensor t = transpose(x, 1, 2);
  EXPECT_THROW(view(t, {24}), Error);
  Tensor flat = reshape(t, {24});
  EXPECT_NE(flat.storage(), x.storage());
  EXPECT_EQ(flat.to_vector<float>()[1], 4.0f);
  EXPECT_EQ(flatten(x, 1).shape(), (Shape{2, 12}));
  EXPECT_THROW(reshape(x, {5, -1}), Error);
}

TEST(Views, SliceNarrowSelectSqueeze) {
  Tensor x = iota({4, 5});
  EXPECT_EQ(slice(x, 1, 1, 5, 2).to_vector<float>(), (std::vector<float>{1, 3, 6, 8, 11, 13, 16, 18}));
  EXPECT_EQ(slice(x, 0, -2, 4).shape(), (Shape{2, 5}));
  EXPECT_EQ(narrow(x, 1, 2, 2).to_vector<float>()[0], 2.0f);
  EXPECT_EQ(select(x, 1, -1).to_vector<float>(), (std::vector<float>{4, 9, 14, 19}));
  EXPECT_EQ(unsqueeze(x, 0).shape(), (Shape{1, 4, 5}));
  EXPECT_EQ(squeeze(unsqueeze(x, 2)).shape(), (Shape{4, 5}));
  EXPECT_EQ(expand(iota({3, 1}), {2, 3, 4}).shape(), (Shape{2, 3, 4}));
  EXPECT_THROW(narrow(x, 0, 3, 2), Error);
  EXPECT_THROW(select(x, 0, 4), Error);
  EXPECT_THROW(permute(x, {0, 0}), Error);
  EXPECT_THROW(expand(x, {3, 5}), Error);
}

TEST(Views, ContiguousCloneAndCasts) {
  Tensor x = transpose(iota({2, 3}), 0, 1);
  Tensor c = contiguous(x);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector<float>(), x.to_vector<float>());
  Tensor y = iota({3});
  EXPECT_TRUE(contiguous(y).is_same(y));
  Tensor k = clone(y);
  EXPECT_NE(k.storage(), y.storage());
  EXPECT_EQ(to(y, DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(to(y, DType::F64).dtype(), DType::F64);
}

TEST(Views, GradientsFlowThroughEveryView) {
  EXPECT_GRADCHECK([](const Inputs& in) { return reshape(in[0], {4, 3}) * 2.0; }, {transposed_leaf({3, 4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return permute(in[0], {2, 0, 1}) + 1.0; }, {leaf({2, 3, 4})});
  EXPECT_GRADCHECK([](const Inputs& in) { return expand(in[0], {2, 3, 4}) * 1.5; }, {leaf({3, 1})});
  EXPECT_GRADCHECK([](const Inputs& in) { return slice(in[0], 1, 1, 4, 2) * 3.0; }, {transposed_leaf({3, 5})});
  EXPECT_GRADCHECK([](const Inputs& in) { return select(in[0], 0, 1) * 3.0; }, {leaf({3, 2})});
  EXPECT_GRADCHECK([](const Inputs& in) { return squeeze(unsqueeze(in[0], 1), 1) * 2.0; }, {leaf({3, 2})});
  EXPECT_GRADCHECK([](const Inputs& in) { return clone(in[0]) * in[0]; }, {leaf({3})});
  EXPECT_GRADCHECK([](const Inputs& in) { return to(to(in[0], DType::F32), DType::F64) * 2.0; }, {leaf({3})},
                   GradcheckOptions{.eps = 1e-3, .atol = 1e-4, .rtol = 1e-3});
}

}  // namespace
}  // namespace ember
