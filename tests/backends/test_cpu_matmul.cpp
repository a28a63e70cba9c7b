// CpuBackend::matmul (oneDNN for f32 where built with it) against the portable fallback: two
// independent implementations agreeing on random inputs of every layout the interface allows.
#include <thread>

#include "backends/backend.h"
#include "backends/cpu/matmul_fallback.h"
#include "tests/testing.h"

namespace ember {
namespace {

Backend& cpu() { return backend_for(Device::cpu()); }

// A random [B, rows, cols] operand: a transposed view of a [B, cols, rows] buffer when
// `transposed`, one matrix broadcast over the batch (stride 0) when `broadcast`.
Tensor operand(int64_t batch, int64_t rows, int64_t cols, bool transposed, bool broadcast, DType dtype = DType::F32) {
  const int64_t stored = broadcast ? 1 : batch;
  Tensor t = transposed ? transpose(randn({stored, cols, rows}, {.dtype = dtype}), -1, -2)
                        : randn({stored, rows, cols}, {.dtype = dtype});
  return broadcast ? broadcast_view(t, {batch, rows, cols}, "test") : t;
}

// max |x - y| / max |y|: the error relative to the result's scale, robust to entries near 0.
double rel_error(const Tensor& x, const Tensor& y) {
  std::vector<double> xv = x.to_vector<double>(), yv = y.to_vector<double>();
  double err = 0, scale = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    err = std::max(err, std::abs(xv[i] - yv[i]));
    scale = std::max(scale, std::abs(yv[i]));
  }
  return err / std::max(scale, 1e-30);
}

struct Case {
  int64_t b, m, k, n;
  bool a_transposed, c_transposed, a_broadcast, c_broadcast;
};

const Case kCases[] = {
    {1, 1, 1, 1, false, false, false, false},   {1, 7, 13, 5, false, false, false, false},
    {1, 7, 13, 5, true, false, false, false},   {1, 7, 13, 5, false, true, false, false},
    {1, 7, 13, 5, true, true, false, false},    {3, 33, 17, 300, false, false, false, false},
    {3, 33, 17, 300, true, true, false, false}, {4, 9, 6, 11, false, false, false, true},
    {4, 9, 6, 11, false, true, false, true},    {4, 9, 6, 11, true, false, true, false},
    {5, 1, 8, 1, false, false, true, true},     {2, 1, 64, 70, true, false, false, false},
    {2, 70, 64, 1, false, true, false, false},  {2, 130, 300, 257, true, false, false, true},
};

TEST(CpuMatmul, BackendMatchesFallbackOnEveryLayout) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(::testing::Message() << "b " << c.b << " m " << c.m << " k " << c.k << " n " << c.n << " flags "
                                      << c.a_transposed << c.c_transposed << c.a_broadcast << c.c_broadcast);
    Tensor a = operand(c.b, c.m, c.k, c.a_transposed, c.a_broadcast);
    Tensor w = operand(c.b, c.k, c.n, c.c_transposed, c.c_broadcast);
    Tensor fast = empty({c.b, c.m, c.n}), slow = empty({c.b, c.m, c.n});
    cpu().matmul(a, w, fast);
    cpu::matmul_fallback(a, w, slow);
    EXPECT_LT(rel_error(fast, slow), 1e-5);
  }
}

TEST(CpuMatmul, RepeatedCallsReuseTheCachedPrimitive) {
  Tensor a = operand(2, 16, 24, true, false), w = operand(2, 24, 8, false, true);
  Tensor first = empty({2, 16, 8}), again = empty({2, 16, 8});
  cpu().matmul(a, w, first);
  cpu().matmul(a, w, again);
  EXPECT_EQ(first.to_vector<float>(), again.to_vector<float>());
}

TEST(CpuMatmul, ThreadsShareOnePrimitiveSafely) {
  Tensor a = operand(2, 96, 80, false, false), w = operand(2, 80, 72, true, false);
  Tensor expected = empty({2, 96, 72});
  cpu::matmul_fallback(a, w, expected);
  std::vector<Tensor> outs(4);
  std::vector<std::thread> threads;
  for (Tensor& out : outs) {
    out = empty({2, 96, 72});
    threads.emplace_back([&a, &w, &out] {
      for (int i = 0; i < 10; ++i) cpu().matmul(a, w, out);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Tensor& out : outs) EXPECT_LT(rel_error(out, expected), 1e-5);
}

TEST(CpuMatmul, LayoutsOneDnnCannotReadFallBackCorrectly) {
  // Rows broadcast by stride 0, and a matrix strided in both dims: the backend must not misread them.
  Tensor row = randn({1, 1, 6});
  Tensor a = as_strided(row, {2, 5, 6}, {0, 0, 1}, 0);
  Tensor big = randn({2, 12, 8});
  Tensor w = as_strided(big, {2, 6, 4}, {96, 16, 2}, 0);
  Tensor out = empty({2, 5, 4}), expected = empty({2, 5, 4});
  cpu().matmul(a, w, out);
  cpu().matmul(contiguous(a), contiguous(w), expected);
  EXPECT_LT(rel_error(out, expected), 1e-6);
}

TEST(CpuMatmul, EmptyInnerDimensionGivesZeros) {
  Tensor out = full({2, 3, 4}, 7.0);
  cpu().matmul(empty({2, 3, 0}), empty({2, 0, 4}), out);
  EXPECT_EQ(out.to_vector<float>(), std::vector<float>(24, 0.0f));
  Tensor none = empty({2, 0, 4});
  EXPECT_NO_THROW(cpu().matmul(empty({2, 0, 3}), empty({2, 3, 4}), none));
}

TEST(CpuMatmul, FallbackHonoursOutputStridesAndOtherDtypes) {
  Tensor a = operand(3, 6, 5, true, false, DType::F64), w = operand(3, 5, 7, false, true, DType::F64);
  Tensor dense = empty({3, 6, 7}, {.dtype = DType::F64});
  Tensor strided = transpose(empty({3, 7, 6}, {.dtype = DType::F64}), -1, -2);
  cpu::matmul_fallback(a, w, dense);
  cpu::matmul_fallback(a, w, strided);
  EXPECT_EQ(dense.to_vector<double>(), strided.to_vector<double>());
  // f32 from the backend against the f64 fallback on the same values.
  Tensor out32 = empty({3, 6, 7});
  cpu().matmul(to(a, DType::F32), to(w, DType::F32), out32);
  EXPECT_LT(rel_error(out32, dense), 1e-5);
  // bf16 accumulates in float: its error is the bf16 rounding of inputs and output only.
  Tensor out16 = empty({3, 6, 7}, {.dtype = DType::BF16});
  cpu().matmul(to(a, DType::BF16), to(w, DType::BF16), out16);
  EXPECT_LT(rel_error(out16, dense), 2e-2);
}

}  // namespace
}  // namespace ember
