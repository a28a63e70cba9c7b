// Shampoo on CUDA parameters against the same steps on the CPU: the statistics (G G^T, G^T G)
// accumulate on the GPU through matmul, the inverse 4th roots come from the host's f64
// eigendecomposition and go back to the GPU. Covers plain and blocked matrices, higher-rank and
// vector (diagonal) parameters, each grafting, moving-average statistics, cached roots, Nesterov
// momentum and weight decay, in f32 and f64. Needs LAPACK and a GPU.
#include <algorithm>
#include <cmath>
#include <memory>

#include "optim/optim.h"
#include "tests/cuda/parity.h"

namespace ember {
namespace {

using testing::close;
using testing::CudaTest;

const Device kGpu = Device::cuda();

// f(p) = 0.5 sum a (p - c)^2 on the parameter's device, a > 0 and c fixed per shape.
struct Problem {
  Tensor a, c;
  Problem(const Shape& shape, DType dtype, Device device) {
    manual_seed(5);
    a = to(to(rand(shape) + 0.5, dtype), device);
    c = to(to(randn(shape), dtype), device);
  }
  Tensor loss(const Tensor& p) const { return sum(a * (p - c) * (p - c)) * 0.5; }
};

// `steps` Shampoo steps from the same start on `device`; the parameter and the optimizer's state.
struct Run {
  Tensor param;
  NamedTensors state;
};

Run run(const Shape& shape, DType dtype, Device device, const ShampooOptions& o, int steps) {
  const Problem problem(shape, dtype, device);
  manual_seed(6);
  Tensor p = to(to(randn(shape), dtype), device);
  p.set_requires_grad();
  Shampoo opt({p}, o);
  for (int t = 0; t < steps; ++t) {
    p.set_grad(Tensor());
    backward(problem.loss(p));
    opt.step();
  }
  return {p, opt.state_tensors()};
}

void expect_same_steps(const Shape& shape, DType dtype, const ShampooOptions& o, double rtol) {
  const Run cpu = run(shape, dtype, Device::cpu(), o, 6), gpu = run(shape, dtype, kGpu, o, 6);
  EXPECT_TRUE(gpu.param.device().is_cuda());
  EXPECT_TRUE(close(gpu.param, cpu.param, rtol)) << "parameter";
  ASSERT_EQ(cpu.state.size(), gpu.state.size());
  for (size_t i = 0; i < cpu.state.size(); ++i) {
    const auto& [name, value] = gpu.state[i];
    ASSERT_EQ(name, cpu.state[i].first);
    if (value.dtype() == DType::I64) continue;  // step counters, kept on the host
    EXPECT_TRUE(value.device().is_cuda()) << name << " is on " << value.device();
    // Statistics sum squares of gradients, so their scale is that of their largest entries.
    double scale = 1;
    for (double v : cpu.state[i].second.to_vector<double>()) scale = std::max(scale, std::abs(v));
    EXPECT_TRUE(close(value, cpu.state[i].second, rtol, scale)) << name;
  }
}

struct Case {
  const char* what;
  Shape shape;
  ShampooOptions options;
};

std::vector<Case> cases() {
  return {
      {"plain, no grafting", {6, 5}, {.lr = 0.05, .momentum = 0, .epsilon = 1e-4, .graft = Graft::None}},
      {"Adam graft, moving averages, cached roots",
       {5, 7},
       {.lr = 0.05, .beta2 = 0.9, .epsilon = 1e-4, .precondition_frequency = 2}},
      {"blocked, SGD graft, Nesterov, weight decay",
       {6, 10},
       {.lr = 0.05, .nesterov = true, .weight_decay = 0.01, .epsilon = 1e-4, .max_preconditioner_dim = 4,
        .graft = Graft::SGD}},
      {"higher rank with unit dims", {3, 1, 4, 2}, {.lr = 0.05, .beta2 = 0.95, .epsilon = 1e-4}},
      {"vector, diagonal", {9}, {.lr = 0.05, .beta2 = 0.9, .epsilon = 1e-4}},
  };
}

TEST_F(CudaTest, ShampooStepsOnCudaMatchCpuInF64) {
  SKIP_WITHOUT_LAPACK();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.what);
    expect_same_steps(c.shape, DType::F64, c.options, 1e-9);
  }
}

// In f32 the statistics carry rounding of about 1e-7 of their size on either device, which
// shifts their (near-)zero eigenvalues by as much; the root's sensitivity to that is noise /
// epsilon, so these runs take epsilon = 1e-2 to keep the comparison of the roots meaningful.
TEST_F(CudaTest, ShampooStepsOnCudaMatchCpuInF32) {
  SKIP_WITHOUT_LAPACK();
  for (Case c : cases()) {
    SCOPED_TRACE(c.what);
    c.options.epsilon = 1e-2;
    expect_same_steps(c.shape, DType::F32, c.options, 1e-4);
  }
}

}  // namespace
}  // namespace ember
