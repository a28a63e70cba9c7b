// CUDA vs CPU on the fused optimizer steps: SGD (momentum, dampening, Nesterov, weight decay)
// and Adam / AdamW, several steps in a row so that the state buffers matter.
#include "tests/cuda/parity.h"

namespace ember {
namespace {

using testing::Both;
using testing::CudaTest;
using testing::both;
using testing::close;
using testing::on_both;
using testing::random;
using testing::tolerance;

const DType kFloating[] = {DType::F32, DType::F64, DType::BF16};

TEST_F(CudaTest, SgdStepsWithEveryOption) {
  for (DType dtype : kFloating) {
    for (bool nesterov : {false, true}) {
      for (double momentum : {0.0, 0.9}) {
        if (nesterov && momentum == 0) continue;
        Both param = both(random({33, 17}, dtype)), buffer = both(zeros({33, 17}, {.dtype = dtype}));
        for (int step = 0; step < 4; ++step) {
          Both grad = both(random({33, 17}, dtype));
          const SgdStep h{.lr = 0.1, .momentum = momentum, .dampening = 0.1, .weight_decay = 0.01,
                          .nesterov = nesterov, .first_step = step == 0};
          on_both([&](Backend& b, bool g) {
            b.sgd_step(param.on(g), grad.on(g), momentum != 0 ? buffer.on(g) : Tensor(), h);
          });
        }
        EXPECT_TRUE(close(param, tolerance(dtype))) << dtype << " momentum " << momentum << " nesterov " << nesterov;
        EXPECT_TRUE(close(buffer, tolerance(dtype))) << dtype << " momentum " << momentum << " nesterov " << nesterov;
      }
    }
  }
}

TEST_F(CudaTest, AdamAndAdamWSteps) {
  for (DType dtype : kFloating) {
    for (bool decoupled : {false, true}) {
      Both param = both(random({1000}, dtype));
      Both m = both(zeros({1000}, {.dtype = dtype})), v = both(zeros({1000}, {.dtype = dtype}));
      for (int64_t step = 1; step <= 5; ++step) {
        Both grad = both(random({1000}, dtype));
        const AdamStep h{.lr = 1e-2, .weight_decay = 0.1, .decoupled_weight_decay = decoupled, .step = step};
        on_both([&](Backend& b, bool g) { b.adam_step(param.on(g), grad.on(g), m.on(g), v.on(g), h); });
      }
      EXPECT_TRUE(close(param, tolerance(dtype))) << dtype << " decoupled " << decoupled;
      EXPECT_TRUE(close(m, tolerance(dtype))) << dtype << " decoupled " << decoupled;
      EXPECT_TRUE(close(v, tolerance(dtype))) << dtype << " decoupled " << decoupled;
    }
  }
}

}  // namespace
}  // namespace ember
