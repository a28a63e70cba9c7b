// CUDA vs CPU on the reductions: sum, max, min over any set of dims and layouts (both CUDA
// kernels: along runs and down columns), argmax/argmin with ties and NaN, and long sums.
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
using testing::tolerance;

Shape reduced_shape(Shape shape, const std::vector<int>& dims) {
  for (int d : dims) shape[static_cast<size_t>(d)] = 1;
  return shape;
}

// x laid out in memory as [37, 6, 5] (contiguous) or as a permutation of it.
Tensor input(DType dtype, bool permuted) {
  Tensor x = random({6, 37, 5}, dtype);
  return permuted ? detach(permute(random({5, 37, 6}, dtype), {2, 1, 0})) : x;
}

const std::vector<std::vector<int>> kDimSets = {{}, {0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}};

TEST_F(CudaTest, SumMaxMinOverEveryDimSetAndLayout) {
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
    for (DType dtype : {DType::F32, DType::F64, DType::BF16, DType::I64}) {
      for (bool permuted : {false, true}) {
        for (const auto& dims : kDimSets) {
          Both x = both(input(dtype, permuted));
          Both out = empty_both(reduced_shape(x.cpu.shape(), dims), dtype);
          on_both([&](Backend& b, bool g) { b.reduce(op, x.on(g), dims, out.on(g)); });
          const double terms = static_cast<double>(x.cpu.numel() / out.cpu.numel());
          EXPECT_TRUE(close(out, tolerance(dtype), op == ReduceOp::Sum ? std::sqrt(terms) : 1.0))
              << "op " << static_cast<int>(op) << " " << dtype << (permuted ? " permuted" : "") << " dims "
              << ::testing::PrintToString(dims);
        }
      }
    }
  }
}

TEST_F(CudaTest, ArgMaxArgMinTakeTheFirstExtremum) {
  for (ReduceOp op : {ReduceOp::ArgMax, ReduceOp::ArgMin}) {
    for (DType dtype : {DType::F32, DType::BF16, DType::I64}) {
      for (bool permuted : {false, true}) {
        for (int dim : {0, 1, 2}) {
          // Few distinct values: many ties, so the first-index rule is exercised.
          Tensor host = to(randint(-2, 3, {6, 37, 5}), dtype);
          if (permuted) host = detach(permute(to(randint(-2, 3, {5, 37, 6}), dtype), {2, 1, 0}));
          Both x = both(host), out = empty_both(reduced_shape(host.shape(), {dim}), DType::I64);
          on_both([&](Backend& b, bool g) { b.reduce(op, x.on(g), {dim}, out.on(g)); });
          EXPECT_TRUE(close(out, 0)) << "op " << static_cast<int>(op) << " " << dtype << " dim " << dim;
        }
      }
    }
  }
}

TEST_F(CudaTest, NaNPropagatesThroughMaxMinAndArgs) {
  Both x = both(from_vector<float>({1, NAN, 5, NAN, 2, 3, 9, -1, 4, 7, NAN, 0}, {3, 4}));
  for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min, ReduceOp::ArgMax, ReduceOp::ArgMin}) {
    for (int dim : {0, 1}) {
      const bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
      Both out = empty_both(reduced_shape({3, 4}, {dim}), arg ? DType::I64 : DType::F32);
      on_both([&](Backend& b, bool g) { b.reduce(op, x.on(g), {dim}, out.on(g)); });
      EXPECT_TRUE(close(out, 0)) << "op " << static_cast<int>(op) << " dim " << dim;
    }
  }
}

TEST_F(CudaTest, LongSumsAndManySmallRows) {
  for (const auto& [shape, dims] : std::vector<std::pair<Shape, std::vector<int>>>{
           {{1 << 21}, {0}}, {{3, 1 << 19}, {1}}, {{1 << 18, 3}, {0}}, {{100000, 3}, {1}}, {{1 << 19, 2}, {0, 1}}}) {
    Both x = both(random(shape, DType::F32)), out = empty_both(reduced_shape(shape, dims), DType::F32);
    on_both([&](Backend& b, bool g) { b.reduce(ReduceOp::Sum, x.on(g), dims, out.on(g)); });
    EXPECT_TRUE(close(out, 1e-5, std::sqrt(static_cast<double>(x.cpu.numel() / out.cpu.numel())))) << shape;
  }
}

// Few outputs over many rows (a bias gradient): the rows are split into slices across blocks
// and merged by a second kernel; argmax must still return the first extremum across slices.
TEST_F(CudaTest, ColumnReductionsSplitIntoRowSlices) {
  for (DType dtype : {DType::F32, DType::BF16}) {
    Both x = both(random({4096, 96}, dtype)), out = empty_both({96}, dtype);
    on_both([&](Backend& b, bool g) { b.reduce(ReduceOp::Sum, x.on(g), {0}, out.on(g)); });
    EXPECT_TRUE(close(out, dtype == DType::BF16 ? 1e-2 : 1e-5, 64)) << dtype_name(dtype);
  }
  for (ReduceOp op : {ReduceOp::ArgMax, ReduceOp::ArgMin}) {
    Both x = both(to(randint(-2, 3, {3000, 5}), DType::F32)), out = empty_both({5}, DType::I64);
    on_both([&](Backend& b, bool g) { b.reduce(op, x.on(g), {0}, out.on(g)); });
    EXPECT_TRUE(close(out, 0)) << "op " << static_cast<int>(op);
  }
}

TEST_F(CudaTest, ReductionErrorsMatchTheCpu) {
  Tensor x = empty({3, 0}, {.device = Device::cuda()}), out = empty({3, 1}, {.device = Device::cuda()});
  EXPECT_THROW(backend_for(Device::cuda()).reduce(ReduceOp::Max, x, {1}, out), Error);
  Tensor y = empty({3, 4}, {.device = Device::cuda()}), arg = empty({1, 1}, {.dtype = DType::I64, .device = Device::cuda()});
  EXPECT_THROW(backend_for(Device::cuda()).reduce(ReduceOp::ArgMax, y, {0, 1}, arg), Error);
  Tensor sums = empty({3, 1}, {.device = Device::cuda()});
  backend_for(Device::cuda()).reduce(ReduceOp::Sum, x, {1}, sums);  // an empty sum is 0
  EXPECT_EQ(sums.to_vector<double>(), std::vector<double>(3, 0.0));
}

}  // namespace
}  // namespace ember
