// CUDA (cuBLAS) vs CPU matmul: f32, f64, bf16 with f32 accumulation, transposed operands read
// in place, broadcast batches, layouts cuBLAS cannot read, and the TF32 switch.
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

struct Case {
  int64_t batch, m, k, n;
  bool a_transposed, c_transposed, c_broadcast;
};

void expect_matmul_parity(DType dtype, const Case& c, double rtol) {
  const Shape a_shape = {c.batch, c.m, c.k};
  const Shape c_shape = {c.c_broadcast ? 1 : c.batch, c.k, c.n};
  Both a = both(c.a_transposed ? random_transposed(a_shape, dtype) : random(a_shape, dtype));
  Both w = both(c.c_transposed ? random_transposed(c_shape, dtype) : random(c_shape, dtype));
  const Shape c_full = {c.batch, c.k, c.n};
  Both out = empty_both({c.batch, c.m, c.n}, dtype);
  on_both([&](Backend& b, bool g) { b.matmul(a.on(g), broadcast_view(w.on(g), c_full, "test"), out.on(g)); });
  EXPECT_TRUE(close(out, rtol, std::sqrt(static_cast<double>(c.k)))) << dtype << " [" << c.batch << "," << c.m << "," << c.k << "] x [" << c.k << ","
                                << c.n << "] a^T " << c.a_transposed << " c^T " << c.c_transposed << " broadcast "
                                << c.c_broadcast;
}

const Case kCases[] = {
    {1, 1, 1, 1, false, false, false},   {1, 17, 33, 9, false, false, false}, {3, 17, 33, 9, true, false, false},
    {3, 17, 33, 9, false, true, false},  {3, 17, 33, 9, true, true, true},    {2, 64, 128, 96, false, false, true},
    {4, 1, 40, 7, true, false, false},   {4, 7, 40, 1, false, true, false},   {2, 130, 257, 65, true, true, false},
};

TEST_F(CudaTest, MatmulInEveryFloatingDtype) {
  ASSERT_FALSE(cuda_tf32());  // off unless asked for
  for (DType dtype : {DType::F32, DType::F64, DType::BF16})
    for (const Case& c : kCases) expect_matmul_parity(dtype, c, tolerance(dtype));
}

TEST_F(CudaTest, MatmulCopiesLayoutsCublasCannotRead) {
  // Every other column of a wider matrix: no unit stride in the last two dims.
  Tensor wide = random({2, 9, 22}, DType::F32);
  Tensor a_host = detach(slice(wide, 2, 0, 22, 2));
  Both a = both(a_host), w = both(random({2, 11, 5}, DType::F32)), out = empty_both({2, 9, 5}, DType::F32);
  on_both([&](Backend& b, bool g) { b.matmul(a.on(g), w.on(g), out.on(g)); });
  EXPECT_TRUE(close(out, tolerance(DType::F32)));
}

TEST_F(CudaTest, MatmulWithAnEmptyInnerDimensionIsZero) {
  Both a = both(random({2, 3, 0}, DType::F32)), w = both(random({2, 0, 4}, DType::F32));
  Both out = empty_both({2, 3, 4}, DType::F32);
  on_both([&](Backend& b, bool g) { b.matmul(a.on(g), w.on(g), out.on(g)); });
  EXPECT_TRUE(close(out, 0));
}

TEST_F(CudaTest, Tf32IsASwitchWithItsOwnTolerance) {
  set_cuda_tf32(true);
  EXPECT_TRUE(cuda_tf32());
  expect_matmul_parity(DType::F32, {2, 128, 512, 64, false, true, false}, 3e-3);
  set_cuda_tf32(false);
  expect_matmul_parity(DType::F32, {2, 128, 512, 64, false, true, false}, tolerance(DType::F32));
}

TEST_F(CudaTest, MatmulRefusesIntegers) {
  Tensor a = empty({1, 2, 2}, {.dtype = DType::I64, .device = Device::cuda()});
  try {
    backend_for(Device::cuda()).matmul(a, a, a);
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("matmul: expected a floating dtype"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ember
