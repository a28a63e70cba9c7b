// CUDA vs CPU on the index kernels: index_select, gather (reads), index_add and scatter_add
// (atomic accumulation, repeated indices included), and the out-of-range errors.
#include "tests/cuda/parity.h"

namespace ember {
namespace {

using testing::Both;
using testing::CudaTest;
using testing::both;
using testing::close;
using testing::empty_both;
using testing::on_both;
using testing::random;
using testing::random_transposed;
using testing::tolerance;

const DType kDtypes[] = {DType::F32, DType::F64, DType::BF16, DType::I64};

// Indices in [0, size) of `shape`, laid out transposed in memory.
Tensor transposed_indices(const Shape& shape, int64_t size) {
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  return detach(transpose(randint(0, size, swapped), -1, -2));
}

// bf16 additions round after every atomic add, in an order the CPU does not share.
double scatter_tolerance(DType dtype) { return dtype == DType::BF16 ? 3e-2 : tolerance(dtype); }

TEST_F(CudaTest, IndexSelectAlongEveryDim) {
  for (DType dtype : kDtypes) {
    for (int dim : {0, 1, 2}) {
      Tensor x_host = random_transposed({6, 5, 7}, dtype);
      const int64_t size = x_host.size(dim);
      Both x = both(x_host), index = both(randint(0, size, {9}));
      Shape out_shape = x_host.shape();
      out_shape[static_cast<size_t>(dim)] = 9;
      Both out = empty_both(out_shape, dtype);
      on_both([&](Backend& b, bool g) { b.index_select(x.on(g), dim, index.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, 0)) << dtype << " dim " << dim;
    }
  }
}

TEST_F(CudaTest, GatherAlongEveryDim) {
  for (DType dtype : kDtypes) {
    for (int dim : {0, 1, 2}) {
      Tensor x_host = random({6, 5, 7}, dtype);
      Shape index_shape = {4, 5, 3};
      index_shape[static_cast<size_t>(dim)] = 8;
      Both x = both(x_host), index = both(transposed_indices(index_shape, x_host.size(dim)));
      Both out = empty_both(index_shape, dtype);
      on_both([&](Backend& b, bool g) { b.gather(x.on(g), dim, index.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, 0)) << dtype << " dim " << dim;
    }
  }
}

TEST_F(CudaTest, IndexAddAccumulatesRepeatedIndices) {
  for (DType dtype : kDtypes) {
    for (int dim : {0, 1, 2}) {
      Tensor out_host = random({6, 5, 7}, dtype);
      Shape src_shape = out_host.shape();
      src_shape[static_cast<size_t>(dim)] = 12;  // more entries than the dim: indices repeat
      Both out = both(out_host), index = both(randint(0, out_host.size(dim), {12})),
           src = both(random_transposed(src_shape, dtype));
      on_both([&](Backend& b, bool g) { b.index_add(src.on(g), dim, index.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, scatter_tolerance(dtype))) << dtype << " dim " << dim;
    }
  }
}

TEST_F(CudaTest, ScatterAddAccumulatesRepeatedIndices) {
  for (DType dtype : kDtypes) {
    for (int dim : {0, 1, 2}) {
      Tensor out_host = random({6, 5, 7}, dtype);
      Shape index_shape = {6, 5, 7};
      index_shape[static_cast<size_t>(dim)] = 11;
      Both out = both(out_host), index = both(randint(0, out_host.size(dim), index_shape)),
           src = both(random(index_shape, dtype));
      on_both([&](Backend& b, bool g) { b.scatter_add(src.on(g), dim, index.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, scatter_tolerance(dtype))) << dtype << " dim " << dim;
    }
  }
}

TEST_F(CudaTest, OutOfRangeIndicesThrowTheCpuMessageAndWriteNothing) {
  Both x = both(random({4, 3}, DType::F32)), out = both(random({5, 3}, DType::F32));
  for (int64_t bad : {-1, 4}) {
    Both index = both(from_vector<int64_t>({0, bad, 2, 1, 3}, {5}));
    std::string messages[2];
    on_both([&](Backend& b, bool g) {
      try {
        b.index_select(x.on(g), 0, index.on(g), out.on(g));
      } catch (const Error& e) {
        messages[g] = e.what();
      }
    });
    EXPECT_EQ(messages[1], "index_select: index " + std::to_string(bad) + " is out of range for dim 0 of size 4 in shape [4,3]");
    EXPECT_EQ(messages[1], messages[0]);
    EXPECT_TRUE(close(out, 0));  // untouched on both sides
  }
}

}  // namespace
}  // namespace ember
