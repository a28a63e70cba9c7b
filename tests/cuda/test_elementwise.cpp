// CUDA vs CPU on the elementwise kernels: copy with dtype conversion, fill, unary, binary,
// where, and uniform random numbers, on strided and broadcast operands.
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

const DType kAll[] = {DType::F32, DType::F64, DType::BF16, DType::I64, DType::Bool};
const DType kFloating[] = {DType::F32, DType::F64, DType::BF16};

TEST_F(CudaTest, CopyConvertsEveryDtypePairFromAStridedSource) {
  for (DType from : kAll) {
    for (DType to_type : kAll) {
      // Values up to ~15 in magnitude, so that integer conversions truncate non-trivially.
      Tensor host = is_floating(from) ? detach(random_transposed({5, 9, 7}, from) * 5.0) : random_transposed({5, 9, 7}, from);
      Both x = both(host), out = empty_both({5, 9, 7}, to_type);
      on_both([&](Backend& b, bool g) { b.copy(x.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, 0)) << from << " -> " << to_type;
    }
  }
}

TEST_F(CudaTest, CopyIntoAStridedDestination) {
  Both x = both(random({6, 4}, DType::F32));
  Both out = both(detach(transpose(zeros({4, 6}), 0, 1)));
  on_both([&](Backend& b, bool g) { b.copy(x.on(g), out.on(g)); });
  EXPECT_TRUE(close(out, 0));
}

TEST_F(CudaTest, FillEveryDtypeThroughAStridedView) {
  for (DType dtype : kAll) {
    Both base = both(random({8, 6}, dtype));
    Both view = {slice(base.cpu, 1, 1, 6, 2), slice(base.gpu, 1, 1, 6, 2)};
    on_both([&](Backend& b, bool g) { b.fill(view.on(g), 2.7); });
    EXPECT_TRUE(close(base, 0)) << dtype;  // the elements outside the view are untouched
  }
}

bool needs_positive_input(UnaryOp op) {
  return op == UnaryOp::Log || op == UnaryOp::Log1p || op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt || op == UnaryOp::Reciprocal ||
         op == UnaryOp::PowScalar;
}

TEST_F(CudaTest, EveryUnaryOpInEveryFloatingDtype) {
  for (int code = 0; code < kUnaryOpCount; ++code) {
    const auto op = static_cast<UnaryOp>(code);
    const double alpha = op == UnaryOp::Clamp ? -0.5 : 2.5, beta = op == UnaryOp::Clamp ? 0.7 : -0.3;
    for (DType dtype : kFloating) {
      Tensor host = random_transposed({7, 33, 9}, dtype);
      if (needs_positive_input(op)) host = detach(abs(host) + 0.25);
      Both x = both(host), out = empty_both({7, 33, 9}, dtype);
      on_both([&](Backend& b, bool g) { b.unary(op, x.on(g), out.on(g), alpha, beta); });
      EXPECT_TRUE(close(out, tolerance(dtype))) << "unary op " << code << " " << dtype;
    }
  }
}

bool arithmetic(BinaryOp op) { return !is_comparison(op); }

TEST_F(CudaTest, EveryBinaryOpWithBroadcastingAndStrides) {
  const Shape shape = {5, 6, 7};
  for (int code = 0; code < kBinaryOpCount; ++code) {
    const auto op = static_cast<BinaryOp>(code);
    for (DType dtype : {DType::F32, DType::F64, DType::BF16, DType::I64}) {
      // Integer division and powers are left to floating types (a zero divisor is undefined).
      if (dtype == DType::I64 && (op == BinaryOp::Div || op == BinaryOp::Pow)) continue;
      Tensor a_host = random({5, 1, 7}, dtype), b_host = random_transposed({1, 6, 7}, dtype);
      if (op == BinaryOp::Pow) a_host = detach(abs(a_host) + 0.5);
      Both a = both(a_host), b = both(b_host);
      Both out = empty_both(shape, arithmetic(op) ? dtype : DType::Bool);
      on_both([&](Backend& be, bool g) {
        be.binary(op, broadcast_view(a.on(g), shape, "test"), broadcast_view(b.on(g), shape, "test"), out.on(g));
      });
      EXPECT_TRUE(close(out, tolerance(dtype))) << "binary op " << code << " " << dtype;
    }
  }
}

// A row vector broadcast over contiguous rows (a bias) takes its own kernel: on either side, with
// rows of a multiple of 4 (vector accesses) and not, over 3-d shapes that merge into 2-d.
TEST_F(CudaTest, BinaryOpsWithARowBroadcastOverContiguousRows) {
  for (const Shape& shape : {Shape{3, 5, 12}, Shape{4, 7}, Shape{2, 3, 9}}) {
    const Shape row{shape.back()};
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Div, BinaryOp::Lt}) {
      for (DType dtype : {DType::F32, DType::BF16, DType::F64}) {
        for (bool row_first : {false, true}) {
          Both full = both(random(shape, dtype)), vec = both(detach(abs(random(row, dtype)) + 0.5));
          Both out = empty_both(shape, arithmetic(op) ? dtype : DType::Bool);
          on_both([&](Backend& be, bool g) {
            const Tensor r = broadcast_view(vec.on(g), shape, "test");
            be.binary(op, row_first ? r : full.on(g), row_first ? full.on(g) : r, out.on(g));
          });
          EXPECT_TRUE(close(out, tolerance(dtype))) << "op " << static_cast<int>(op) << " " << dtype << " " << shape
                                                    << (row_first ? " row first" : " row second");
        }
      }
    }
  }
}

TEST_F(CudaTest, MaximumAndMinimumPropagateNaN) {
  Both a = both(from_vector<float>({1, NAN, 3, NAN}, {4})), b = both(from_vector<float>({NAN, 2, 1, NAN}, {4}));
  for (BinaryOp op : {BinaryOp::Maximum, BinaryOp::Minimum}) {
    Both out = empty_both({4}, DType::F32);
    on_both([&](Backend& be, bool g) { be.binary(op, a.on(g), b.on(g), out.on(g)); });
    EXPECT_TRUE(close(out, 0));
  }
}

TEST_F(CudaTest, WhereWithABroadcastCondition) {
  for (DType dtype : kAll) {
    Both cond = both(random({1, 6, 5}, DType::Bool)), a = both(random({4, 6, 5}, dtype)),
         b = both(random_transposed({4, 6, 5}, dtype));
    Both out = empty_both({4, 6, 5}, dtype);
    on_both([&](Backend& be, bool g) {
      be.where(broadcast_view(cond.on(g), {4, 6, 5}, "test"), a.on(g), b.on(g), out.on(g));
    });
    EXPECT_TRUE(close(out, 0)) << dtype;
  }
}

TEST_F(CudaTest, UniformGivesTheCpuPhiloxNumbers) {
  for (DType dtype : kFloating) {
    Both out = empty_both({1001}, dtype);
    on_both([&](Backend& b, bool g) { b.uniform(out.on(g), 0x1234abcd, 17); });
    EXPECT_TRUE(close(out, 0)) << dtype;
    const std::vector<double> v = out.gpu.to_vector<double>();
    EXPECT_GT(*std::min_element(v.begin(), v.end()), 0.0);
    EXPECT_LE(*std::max_element(v.begin(), v.end()), 1.0);
  }
}

// A contiguous view of n elements `offset` elements into a random buffer of n + 4 on both
// devices; `base` is the whole buffer, to see that nothing outside the view is written.
struct Buffer {
  Both base, view;
};

Buffer buffer(int64_t n, int64_t offset, DType dtype) {
  Both base = both(random({n + 4}, dtype));
  return {base, {slice(base.cpu, 0, offset, offset + n), slice(base.gpu, 0, offset, offset + n)}};
}

// Contiguous operands take the division-free path, four elements per thread with vector
// accesses where every pointer allows them: odd sizes leave a tail of 1 to 3 elements, and a
// view starting 1 or 3 elements into its buffer is contiguous but not aligned for them.
TEST_F(CudaTest, ContiguousFastPathWithOddSizesAndMisalignedOffsets) {
  for (int64_t n : {1, 3, 4, 5, 7, 1023, 4097, (1 << 20) + 3}) {
    for (DType dtype : kFloating) {
      for (int64_t offset : {0, 1, 3}) {
        const int64_t out_offset = offset == 1 ? 0 : offset;  // an aligned output with a misaligned input too
        Buffer x = buffer(n, offset, dtype), y = buffer(n, 0, dtype), cond = buffer(n, offset, DType::Bool);
        Buffer out = buffer(n, out_offset, dtype);
        on_both([&](Backend& b, bool g) { b.unary(UnaryOp::Tanh, x.view.on(g), out.view.on(g)); });
        EXPECT_TRUE(close(out.base, tolerance(dtype))) << "tanh n=" << n << " " << dtype << " offset " << offset;
        on_both([&](Backend& b, bool g) { b.binary(BinaryOp::Mul, x.view.on(g), y.view.on(g), out.view.on(g)); });
        EXPECT_TRUE(close(out.base, 0)) << "mul n=" << n << " " << dtype << " offset " << offset;
        on_both([&](Backend& b, bool g) { b.where(cond.view.on(g), x.view.on(g), y.view.on(g), out.view.on(g)); });
        EXPECT_TRUE(close(out.base, 0)) << "where n=" << n << " " << dtype << " offset " << offset;
        on_both([&](Backend& b, bool g) { b.fill(out.view.on(g), -1.25); });
        EXPECT_TRUE(close(out.base, 0)) << "fill n=" << n << " " << dtype << " offset " << offset;
        Buffer narrow = buffer(n, out_offset, DType::BF16);
        on_both([&](Backend& b, bool g) { b.copy(x.view.on(g), narrow.view.on(g)); });
        EXPECT_TRUE(close(narrow.base, 0)) << "copy to bf16 n=" << n << " " << dtype << " offset " << offset;
      }
    }
  }
}

// Strided layouts walk their dims with 32-bit division by multiplication: many merged dims of
// odd sizes exercise a divisor per dim.
TEST_F(CudaTest, CopyFromAPermutedViewOfManyOddDims) {
  for (DType dtype : {DType::F32, DType::BF16, DType::I64}) {
    Tensor host = detach(permute(random({3, 5, 7, 2, 9, 11}, dtype), {5, 0, 3, 1, 4, 2}));
    Both x = both(host), out = empty_both(host.shape(), dtype);
    on_both([&](Backend& b, bool g) { b.copy(x.on(g), out.on(g)); });
    EXPECT_TRUE(close(out, 0)) << dtype;
  }
}

// Operands that disagree on their fastest dim (a transposed view against a contiguous one, as
// the Hyena operator's gradients are) take the tiled walk: 32 x 32 tiles over rank-2 and rank-3
// shapes whose sizes are not multiples of the tile, a batch dim outside or between the tiled
// dims, a transposed output, and a shape of about a thousand tiles. Every op computes its
// elements exactly as the CPU does (tanh up to libm).
TEST_F(CudaTest, TiledWalkOverOperandsTransposedAgainstEachOther) {
  struct Case {
    Shape memory;                // the operand's shape in memory order
    std::vector<int64_t> order;  // the permutation that gives the view
  };
  const Case cases[] = {{{70, 37}, {1, 0}},          {{3, 33, 45}, {0, 2, 1}}, {{33, 3, 45}, {2, 1, 0}},
                        {{1283, 777}, {1, 0}}, {{17, 16}, {1, 0}}};
  for (const Case& c : cases) {
    for (DType dtype : {DType::F32, DType::BF16, DType::F64, DType::I64}) {
      Both a = both(detach(permute(random(c.memory, dtype), c.order)));
      const Shape shape = a.cpu.shape();
      SCOPED_TRACE(::testing::Message() << shape << " " << dtype);
      Both b = both(random(shape, dtype)), cond = both(random(shape, DType::Bool)), out = empty_both(shape, dtype);
      on_both([&](Backend& be, bool g) { be.binary(BinaryOp::Mul, a.on(g), b.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, 0)) << "mul";
      on_both([&](Backend& be, bool g) { be.binary(BinaryOp::Sub, b.on(g), a.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, 0)) << "sub, transposed second";
      on_both([&](Backend& be, bool g) { be.copy(a.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, 0)) << "copy";
      on_both([&](Backend& be, bool g) { be.where(cond.on(g), a.on(g), b.on(g), out.on(g)); });
      EXPECT_TRUE(close(out, 0)) << "where";
      if (dtype != DType::I64) {
        on_both([&](Backend& be, bool g) { be.unary(UnaryOp::Tanh, a.on(g), out.on(g)); });
        EXPECT_TRUE(close(out, tolerance(dtype))) << "tanh";
      }
      // A contiguous source into a destination laid out as a: the output is the transposed side.
      Both dst = both(detach(permute(zeros(c.memory, {.dtype = dtype}), c.order)));
      on_both([&](Backend& be, bool g) { be.copy(b.on(g), dst.on(g)); });
      EXPECT_TRUE(close(dst, 0)) << "copy into a transposed destination";
    }
  }
}

TEST_F(CudaTest, LargeContiguousMapsCoverEveryElement) {
  Both x = both(random({3, 1 << 20}, DType::F32)), out = empty_both({3, 1 << 20}, DType::F32);
  on_both([&](Backend& b, bool g) { b.unary(UnaryOp::Tanh, x.on(g), out.on(g)); });
  EXPECT_TRUE(close(out, tolerance(DType::F32)));
}

}  // namespace
}  // namespace ember
