// CUDA vs CPU on the fused row kernels, forward and backward: softmax and log-softmax, layer
// norm (with and without affine parameters), and cross-entropy (ignored rows, smoothing).
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

const DType kFloating[] = {DType::F32, DType::F64, DType::BF16};
const std::pair<int64_t, int64_t> kRowShapes[] = {{1, 1}, {5, 7}, {33, 300}, {4, 1000}, {3, 4099}, {2048, 96}};

TEST_F(CudaTest, SoftmaxAndLogSoftmaxForwardAndBackward) {
  for (DType dtype : kFloating) {
    for (auto [rows, cols] : kRowShapes) {
      for (bool log : {false, true}) {
        Both x = both(detach(random({rows, cols}, dtype) * 3.0)), y = empty_both({rows, cols}, dtype);
        on_both([&](Backend& b, bool g) { b.softmax(x.on(g), y.on(g), log); });
        EXPECT_TRUE(close(y, tolerance(dtype))) << dtype << " [" << rows << "," << cols << "] log " << log;
        // The backward from the CPU's y on both sides, so it is tested on its own.
        Both y_in = both(y.cpu), gy = both(random({rows, cols}, dtype)), gx = empty_both({rows, cols}, dtype);
        on_both([&](Backend& b, bool g) { b.softmax_backward(y_in.on(g), gy.on(g), gx.on(g), log); });
        EXPECT_TRUE(close(gx, tolerance(dtype))) << "backward " << dtype << " [" << rows << "," << cols << "] log " << log;
      }
    }
  }
}

TEST_F(CudaTest, LayerNormForwardAndBackward) {
  for (DType dtype : kFloating) {
    for (auto [rows, cols] : kRowShapes) {
      for (bool affine : {false, true}) {
        Both x = both(detach(random({rows, cols}, dtype) * 2.0 + 0.5));
        // A strided weight: every other element of a longer vector.
        Both w = affine ? both(detach(slice(random({2 * cols}, dtype), 0, 0, 2 * cols, 2))) : Both{};
        Both bias = affine ? both(random({cols}, dtype)) : Both{};
        Both y = empty_both({rows, cols}, dtype), mean = empty_both({rows}, dtype), rstd = empty_both({rows}, dtype);
        on_both([&](Backend& b, bool g) {
          b.layer_norm(x.on(g), w.on(g), bias.on(g), 1e-5, y.on(g), mean.on(g), rstd.on(g));
        });
        const std::string what = std::string(dtype_name(dtype)) + " [" + std::to_string(rows) + "," +
                                 std::to_string(cols) + "]" + (affine ? " affine" : "");
        EXPECT_TRUE(close(y, tolerance(dtype))) << what;
        EXPECT_TRUE(close(mean, tolerance(dtype))) << what;
        EXPECT_TRUE(close(rstd, tolerance(dtype))) << what;

        Both gy = both(random({rows, cols}, dtype)), gx = empty_both({rows, cols}, dtype);
        Both gw = affine ? empty_both({cols}, dtype) : Both{}, gb = affine ? empty_both({cols}, dtype) : Both{};
        Both mean_in = both(mean.cpu), rstd_in = both(rstd.cpu);
        on_both([&](Backend& b, bool g) {
          b.layer_norm_backward(gy.on(g), x.on(g), w.on(g), mean_in.on(g), rstd_in.on(g), gx.on(g), gw.on(g), gb.on(g));
        });
        EXPECT_TRUE(close(gx, tolerance(dtype))) << "backward " << what;
        if (!affine) continue;
        // Sums over the rows.
        EXPECT_TRUE(close(gw, tolerance(dtype), std::sqrt(static_cast<double>(rows)))) << "weight gradient " << what;
        EXPECT_TRUE(close(gb, tolerance(dtype), std::sqrt(static_cast<double>(rows)))) << "bias gradient " << what;
      }
    }
  }
}

TEST_F(CudaTest, CrossEntropyForwardAndBackward) {
  const int64_t ignore = -100;
  for (DType dtype : kFloating) {
    for (auto [rows, cols] : kRowShapes) {
      for (double smoothing : {0.0, 0.1}) {
        Both logits = both(detach(random({rows, cols}, dtype) * 2.0));
        Tensor target_host = randint(0, cols, {rows});
        if (rows > 2) target_host = detach(where(lt(rand({rows}), full({rows}, 0.3)), full({rows}, ignore, {.dtype = DType::I64}), target_host));
        // A strided target: every other element of a longer vector.
        Tensor strided = zeros({2 * rows}, {.dtype = DType::I64});
        Tensor target_view = slice(strided, 0, 0, 2 * rows, 2);
        backend_for(Device::cpu()).copy(target_host, target_view);
        Both target = both(target_view);
        // Loss, logsumexp and the loss gradient are in the compute type: f32 for bf16 logits,
        // which both backends read as they are and sum in f32.
        const DType compute = dtype == DType::BF16 ? DType::F32 : dtype;
        Both loss = empty_both({rows}, compute), lse = empty_both({rows}, compute);
        on_both([&](Backend& b, bool g) {
          b.cross_entropy(logits.on(g), target.on(g), ignore, smoothing, loss.on(g), lse.on(g));
        });
        const std::string what = std::string(dtype_name(dtype)) + " [" + std::to_string(rows) + "," +
                                 std::to_string(cols) + "] smoothing " + std::to_string(smoothing);
        EXPECT_TRUE(close(loss, tolerance(compute))) << what;
        EXPECT_TRUE(close(lse, tolerance(compute))) << what;

        // The loss gradient arrives broadcast (stride 0) from a mean.
        Both grad_loss = both(detach(expand(random({1}, compute), {rows})));
        Both lse_in = both(lse.cpu), glogits = empty_both({rows, cols}, dtype);
        on_both([&](Backend& b, bool g) {
          b.cross_entropy_backward(logits.on(g), target.on(g), lse_in.on(g), grad_loss.on(g), ignore, smoothing,
                                   glogits.on(g));
        });
        EXPECT_TRUE(close(glogits, tolerance(dtype))) << "backward " << what;
      }
    }
  }
}

TEST_F(CudaTest, CrossEntropyRejectsATargetOutOfRangeLikeTheCpu) {
  Both logits = both(random({4, 3}, DType::F32)), target = both(from_vector<int64_t>({0, 2, 3, 1}, {4}));
  Both loss = empty_both({4}, DType::F32), lse = empty_both({4}, DType::F32);
  std::string messages[2];
  on_both([&](Backend& b, bool g) {
    try {
      b.cross_entropy(logits.on(g), target.on(g), -100, 0, loss.on(g), lse.on(g));
    } catch (const Error& e) {
      messages[g] = e.what();
    }
  });
  EXPECT_EQ(messages[1], "cross_entropy: target 3 at row 2 is out of range for 3 classes");
  EXPECT_EQ(messages[1], messages[0]);
}

}  // namespace
}  // namespace ember
