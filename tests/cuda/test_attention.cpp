// CUDA vs CPU on fused attention, forward (out, lse) and backward (gq, gk, gv): f32, f64 and
// bf16; causal or not; a broadcast mask with an empty row; dropout; Tq != Tk; lengths that are
// not multiples of the 64-row tiles; head dims 64 and 128 (bf16's tensor-core path) and odd
// ones; [B,T,H,D] buffers viewed as [B,H,T,D] (interleaved heads) for inputs and outputs alike,
// which f32 / f64 reach in place through per-head pointer arrays, and rows off 16 bytes, which
// they copy; score rows on both sides of the softmax's register bound (1024 keys). Then the
// autograd op on both devices and an f64 gradcheck on the GPU.
//
// The fair reference for bf16 is the CPU computing in f32 on the same bf16 values (widened
// exactly): the GPU is then off only by its own bf16 steps, the rounding of its outputs and,
// on the tensor-core path, of P and dS as matrix operands (as FlashAttention does).
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "autograd/attention.h"
#include "tests/cuda/parity.h"

namespace ember {
namespace {

using testing::both;
using testing::CudaTest;
using testing::random;

const Device kGpu = Device::cuda();

struct Case {
  int64_t batch, heads, tq, tk, d, dv;
  bool causal = false, mask = false, strided = false;
  double dropout = 0;
  // Interleaved heads whose rows start one element into [B,T,H,C + 1] buffers: rows off 16
  // bytes, which the GEMM path's pointer arrays do not take.
  bool padded = false;
  double scale = 0;  // 0: 1 / sqrt(D)
};

std::string describe(const Case& c, DType dtype) {
  std::ostringstream s;
  s << dtype_name(dtype) << " B" << c.batch << " H" << c.heads << " Tq" << c.tq << " Tk" << c.tk << " D" << c.d
    << " Dv" << c.dv << (c.causal ? " causal" : "") << (c.mask ? " mask" : "") << (c.strided ? " strided" : "")
    << (c.padded ? " padded" : "") << (c.dropout > 0 ? " dropout" : "");
  if (c.scale != 0) s << " scale " << c.scale;
  return s.str();
}

// A random [B,H,T,C] operand, optionally the [B,T,H,C]-buffer view attention heads come in.
Tensor operand(const Case& c, int64_t t, int64_t cols, DType dtype) {
  if (c.padded) return detach(transpose(narrow(random({c.batch, t, c.heads, cols + 1}, dtype), 3, 1, cols), 1, 2));
  if (!c.strided) return random({c.batch, c.heads, t, cols}, dtype);
  return detach(transpose(random({c.batch, t, c.heads, cols}, dtype), 1, 2));
}

// A new [B,H,T,C] output in the layout of the case's operands: for strided cases interleaved
// ([B,T,H,C] memory seen transposed), as the autograd op allocates outputs for such heads.
Tensor output(const Case& c, int64_t t, int64_t cols, DType dtype, Device device) {
  if (c.padded)
    return transpose(narrow(empty({c.batch, t, c.heads, cols + 1}, {.dtype = dtype, .device = device}), 3, 1, cols),
                     1, 2);
  if (!c.strided) return empty({c.batch, c.heads, t, cols}, {.dtype = dtype, .device = device});
  return transpose(empty({c.batch, t, c.heads, cols}, {.dtype = dtype, .device = device}), 1, 2);
}

// A random [Tq, Tk] pattern broadcast (stride 0) over batch and heads, with row 3 all hidden.
Tensor broadcast_mask(const Case& c) {
  Tensor m = contiguous(random({1, 1, c.tq, c.tk}, DType::Bool));
  bool* data = m.data<bool>();
  if (c.tq > 3)
    for (int64_t j = 0; j < c.tk; ++j) data[3 * c.tk + j] = false;
  return broadcast_view(m, {c.batch, c.heads, c.tq, c.tk}, "test");
}

double root_mean_square(const Tensor& t) {
  double sum = 0;
  const std::vector<double> v = t.to_vector<double>();
  for (double x : v) sum += x * x;
  return v.empty() ? 0 : std::sqrt(sum / static_cast<double>(v.size()));
}

// |gpu - cpu| <= rtol * max(rms(cpu), |cpu|, floor) elementwise; equal infinities (lse of a row
// that sees no key) match. `floor` is the scale of a tensor that is zero in exact arithmetic
// (gq and gk when each query sees one key), where both sides hold rounding noise only.
::testing::AssertionResult matches(const Tensor& gpu, const Tensor& cpu, double rtol, double floor = 0) {
  if (gpu.shape() != cpu.shape()) return ::testing::AssertionFailure() << "shapes " << gpu.shape() << ", " << cpu.shape();
  const std::vector<double> g = gpu.to_vector<double>(), c = cpu.to_vector<double>();
  double sum = 0;
  size_t finite = 0;
  for (double x : c)
    if (std::isfinite(x)) sum += x * x, ++finite;
  const double rms = std::max(finite > 0 ? std::sqrt(sum / static_cast<double>(finite)) : 1, floor);
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (g[i] == c[i] || std::abs(g[i] - c[i]) <= rtol * std::max(rms, std::abs(c[i]))) continue;
    if (bad++ == 0) first = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << c.size() << " elements differ beyond " << rtol
                                       << " (rms " << rms << "); first at " << first << ": cuda " << g[first]
                                       << ", cpu " << c[first];
}

// Tolerances relative to each tensor's rms. f32: the two devices sum in different orders and
// use different exp implementations, ~1e-7 per term. bf16: the kernels round P and dS to bf16
// operands (up to 2^-8 relative each) and compute delta from the bf16 output, as
// FlashAttention-2 does. Emulating exactly that rounding in float64 against the exact result
// on these problems (random normal q, k, v, gout; causal T = 1000, D = 64 and T = 777, D = 128)
// gives worst elements of 1.7% of the rms for out, 3.5% for gv and 6.7% for gq and gk: the
// bounds below leave a little room above those, and a real fault (a mask off by one, a wrong
// scale, a lost tile) is off by tens of percent on many elements.
struct Tolerance {
  double out, lse, grad;
};
Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case DType::F64: return {1e-12, 1e-12, 1e-12};
    case DType::F32: return {1e-5, 1e-5, 1e-5};
    default: return {2.5e-2, 1e-4, 8e-2};
  }
}

void check_case(const Case& c, DType dtype) {
  SCOPED_TRACE(describe(c, dtype));
  const DType ref = dtype == DType::BF16 ? DType::F32 : dtype;
  const DType lse_dtype = dtype == DType::F64 ? DType::F64 : DType::F32;
  const Tensor q = operand(c, c.tq, c.d, dtype), k = operand(c, c.tk, c.d, dtype), v = operand(c, c.tk, c.dv, dtype);
  const Tensor gout = operand(c, c.tq, c.dv, dtype);  // interleaved too, as a linear layer's gradient comes
  const Tensor mask = c.mask ? broadcast_mask(c) : Tensor{};
  Backend::AttentionParams p;
  p.scale = c.scale != 0 ? c.scale : 1 / std::sqrt(static_cast<double>(c.d));
  p.causal = c.causal;
  p.dropout_p = c.dropout;
  p.seed = 1234;
  p.offset = 77;
  const Shape lse_shape{c.batch, c.heads, c.tq};

  // The CPU in the reference dtype, on the same values.
  Backend& cpu = backend_for(Device::cpu());
  const Tensor rq = to(q, ref), rk = to(k, ref), rv = to(v, ref), rg = to(gout, ref);
  const Device host = Device::cpu();
  Tensor out_c = output(c, c.tq, c.dv, ref, host), lse_c = empty(lse_shape, {.dtype = lse_dtype});
  cpu.attention(rq, rk, rv, mask, p, out_c, lse_c);
  Tensor gq_c = output(c, c.tq, c.d, ref, host), gk_c = output(c, c.tk, c.d, ref, host),
         gv_c = output(c, c.tk, c.dv, ref, host);
  cpu.attention_backward(rq, rk, rv, mask, out_c, lse_c, rg, p, gq_c, gk_c, gv_c);

  // The GPU on the same layouts (strided views stay views), with its own forward's out and lse.
  Backend& gpu = backend_for(kGpu);
  const Tensor dq = both(q).gpu, dk = both(k).gpu, dv = both(v).gpu, dg = both(gout).gpu;
  const Tensor dmask = c.mask ? both(mask).gpu : Tensor{};
  Tensor out_g = output(c, c.tq, c.dv, dtype, kGpu);
  Tensor lse_g = empty(lse_shape, {.dtype = lse_dtype, .device = kGpu});
  gpu.attention(dq, dk, dv, dmask, p, out_g, lse_g);
  Tensor gq_g = output(c, c.tq, c.d, dtype, kGpu), gk_g = output(c, c.tk, c.d, dtype, kGpu),
         gv_g = output(c, c.tk, c.dv, dtype, kGpu);
  gpu.attention_backward(dq, dk, dv, dmask, out_g, lse_g, dg, p, gq_g, gk_g, gv_g);

  Tolerance tol = tolerance_for(dtype);
  // f32's rounding of exp(score) grows with the scores, ~|scale| sqrt(D) for unit-normal q, k.
  if (dtype == DType::F32) {
    const double size = std::max(1.0, std::abs(p.scale) * std::sqrt(static_cast<double>(c.d)));
    tol = {tol.out * size, tol.lse * size, tol.grad * size};
  }
  EXPECT_TRUE(matches(out_g, out_c, tol.out)) << "out";
  EXPECT_TRUE(matches(lse_g, lse_c, tol.lse)) << "lse";
  const double grad_scale = root_mean_square(gv_c);  // gv is never zero: its rms is the gradients' scale
  EXPECT_TRUE(matches(gq_g, gq_c, tol.grad, grad_scale)) << "gq";
  EXPECT_TRUE(matches(gk_g, gk_c, tol.grad, grad_scale)) << "gk";
  EXPECT_TRUE(matches(gv_g, gv_c, tol.grad)) << "gv";
}

const DType kFloating[] = {DType::F32, DType::F64, DType::BF16};

TEST_F(CudaTest, AttentionCausalAndNot) {
  for (DType dtype : kFloating)
    for (bool causal : {false, true}) {
      check_case({.batch = 2, .heads = 3, .tq = 37, .tk = 37, .d = 64, .dv = 64, .causal = causal}, dtype);
      check_case({.batch = 1, .heads = 2, .tq = 200, .tk = 200, .d = 128, .dv = 128, .causal = causal}, dtype);
      check_case({.batch = 2, .heads = 2, .tq = 1, .tk = 1, .d = 64, .dv = 64, .causal = causal}, dtype);
      check_case({.batch = 1, .heads = 2, .tq = 300, .tk = 300, .d = 64, .dv = 64, .causal = causal}, dtype);
    }
}

TEST_F(CudaTest, AttentionQueryAndKeyLengthsDiffer) {
  for (DType dtype : kFloating)
    for (bool causal : {false, true}) {
      check_case({.batch = 1, .heads = 2, .tq = 37, .tk = 200, .d = 64, .dv = 64, .causal = causal}, dtype);
      check_case({.batch = 1, .heads = 2, .tq = 200, .tk = 37, .d = 128, .dv = 128, .causal = causal}, dtype);
      check_case({.batch = 2, .heads = 1, .tq = 65, .tk = 1, .d = 64, .dv = 64, .causal = causal}, dtype);
    }
}

TEST_F(CudaTest, AttentionOddHeadDims) {
  for (DType dtype : kFloating)
    for (bool causal : {false, true}) {
      check_case({.batch = 2, .heads = 2, .tq = 70, .tk = 90, .d = 40, .dv = 24, .causal = causal}, dtype);
      check_case({.batch = 1, .heads = 1, .tq = 33, .tk = 33, .d = 1, .dv = 128, .causal = causal}, dtype);
      check_case({.batch = 1, .heads = 2, .tq = 50, .tk = 50, .d = 64, .dv = 32, .causal = causal}, dtype);
    }
}

TEST_F(CudaTest, AttentionMaskWithBroadcastAndEmptyRow) {
  for (DType dtype : kFloating)
    for (bool causal : {false, true}) {
      check_case({.batch = 2, .heads = 2, .tq = 100, .tk = 130, .d = 64, .dv = 64, .causal = causal, .mask = true},
                 dtype);
      check_case({.batch = 1, .heads = 3, .tq = 37, .tk = 37, .d = 40, .dv = 40, .causal = causal, .mask = true}, dtype);
    }
}

TEST_F(CudaTest, AttentionDropoutDropsTheCpuElements) {
  for (DType dtype : kFloating)
    for (bool causal : {false, true}) {
      check_case({.batch = 2, .heads = 2, .tq = 130, .tk = 97, .d = 64, .dv = 64, .causal = causal, .dropout = 0.3},
                 dtype);
      check_case({.batch = 1, .heads = 2, .tq = 45, .tk = 45, .d = 128, .dv = 128, .causal = causal, .mask = true,
                  .dropout = 0.2},
                 dtype);
      check_case({.batch = 1, .heads = 2, .tq = 37, .tk = 61, .d = 40, .dv = 40, .causal = causal, .dropout = 0.5},
                 dtype);
    }
}

TEST_F(CudaTest, AttentionStridedHeads) {
  for (DType dtype : kFloating)
    for (bool causal : {false, true}) {
      check_case({.batch = 2, .heads = 3, .tq = 100, .tk = 100, .d = 64, .dv = 64, .causal = causal, .strided = true},
                 dtype);
      check_case({.batch = 1, .heads = 2, .tq = 70, .tk = 40, .d = 128, .dv = 128, .causal = causal, .strided = true},
                 dtype);
      check_case({.batch = 2, .heads = 2, .tq = 37, .tk = 37, .d = 40, .dv = 40, .causal = causal, .strided = true},
                 dtype);
    }
}

// f32 and f64 with interleaved heads in and out ([B,T,H,D] buffers seen as [B,H,T,D], B and H
// above 1, so no single stride steps through the heads): the GEMM path reads and writes them in
// place through per-head pointer arrays. Masks, dropout, Tk != Tq, D != Dv; score rows up to
// 1024 keys (the softmax keeps them in registers) and longer (two passes over memory); rows off
// 16 bytes (padded: those heads are copied, and the outputs computed in contiguous scratch).
TEST_F(CudaTest, AttentionInterleavedHeadsInPlace) {
  for (DType dtype : {DType::F32, DType::F64})
    for (bool causal : {false, true}) {
      check_case({.batch = 2, .heads = 3, .tq = 100, .tk = 130, .d = 64, .dv = 64, .causal = causal, .mask = true,
                  .strided = true},
                 dtype);
      check_case({.batch = 2, .heads = 2, .tq = 130, .tk = 97, .d = 64, .dv = 64, .causal = causal, .strided = true,
                  .dropout = 0.3},
                 dtype);
      check_case({.batch = 3, .heads = 2, .tq = 45, .tk = 45, .d = 40, .dv = 24, .causal = causal, .mask = true,
                  .strided = true, .dropout = 0.2},
                 dtype);
      check_case({.batch = 2, .heads = 2, .tq = 37, .tk = 200, .d = 40, .dv = 24, .causal = causal, .strided = true},
                 dtype);
      check_case({.batch = 2, .heads = 2, .tq = 200, .tk = 37, .d = 24, .dv = 40, .causal = causal, .strided = true},
                 dtype);
      // Rows of exactly the register bound, and one key past it.
      check_case({.batch = 2, .heads = 2, .tq = 40, .tk = 1024, .d = 32, .dv = 32, .causal = causal, .mask = true,
                  .strided = true},
                 dtype);
      check_case({.batch = 2, .heads = 2, .tq = 40, .tk = 1025, .d = 32, .dv = 32, .causal = causal, .strided = true,
                  .dropout = 0.1},
                 dtype);
      // T > 1024: under causal the first chunks' rows fit in registers, the last ones do not.
      check_case({.batch = 2, .heads = 2, .tq = 1100, .tk = 1100, .d = 32, .dv = 32, .causal = causal, .strided = true},
                 dtype);
      check_case({.batch = 2, .heads = 3, .tq = 70, .tk = 90, .d = 40, .dv = 24, .causal = causal, .mask = true,
                  .padded = true},
                 dtype);
      check_case({.batch = 2, .heads = 2, .tq = 64, .tk = 64, .d = 64, .dv = 64, .causal = causal, .dropout = 0.3,
                  .padded = true},
                 dtype);
    }
}

// A longer causal problem on bf16's fast path: many tiles skipped, several blocks per head.
TEST_F(CudaTest, AttentionLongCausalBf16) {
  check_case({.batch = 1, .heads = 4, .tq = 1000, .tk = 1000, .d = 64, .dv = 64, .causal = true}, DType::BF16);
  check_case({.batch = 1, .heads = 2, .tq = 777, .tk = 777, .d = 128, .dv = 128, .causal = true}, DType::BF16);
}

// Scales other than 1 / sqrt(D): a negative one (the forward kernels negate Q instead) and a
// large one (sharp rows, where the running max moves most), on every dtype's paths.
TEST_F(CudaTest, AttentionScaleSignAndSize) {
  for (DType dtype : kFloating)
    for (bool causal : {false, true})
      for (double scale : {-0.3, 0.6}) {
        check_case({.batch = 1, .heads = 2, .tq = 300, .tk = 300, .d = 64, .dv = 64, .causal = causal, .scale = scale},
                   dtype);
        check_case({.batch = 1, .heads = 1, .tq = 100, .tk = 130, .d = 128, .dv = 128, .causal = causal, .scale = scale},
                   dtype);
      }
}

// The autograd op on both devices, gradients included: [B,T,H,D] projections viewed as heads,
// causal with a mask and dropout (the same generator state on both sides).
TEST_F(CudaTest, ScaledDotProductAttentionMatchesCpu) {
  for (DType dtype : {DType::F32, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const int64_t b = 2, t = 70, h = 2, d = 64;
    const Tensor q = random({b, t, h, d}, dtype), k = random({b, t, h, d}, dtype), v = random({b, t, h, d}, dtype);
    const Tensor mask = random({t, t}, DType::Bool), grad = random({b, h, t, d}, dtype);
    std::vector<Tensor> outs, grads;
    for (Device device : {Device::cpu(), kGpu}) {
      Tensor lq = detach(to(q, device)), lk = detach(to(k, device)), lv = detach(to(v, device));
      for (const Tensor& leaf : {lq, lk, lv}) leaf.set_requires_grad();
      manual_seed(9);
      Tensor out = scaled_dot_product_attention(transpose(lq, 1, 2), transpose(lk, 1, 2), transpose(lv, 1, 2), true,
                                                to(mask, device), 0.25);
      backward(sum(out * to(grad, device)));
      outs.push_back(to(out, Device::cpu()));
      for (const Tensor& leaf : {lq, lk, lv}) grads.push_back(to(leaf.grad(), Device::cpu()));
    }
    // The CPU side runs in bf16 too here (the op's own dtype), so both round their outputs.
    const double out_tol = dtype == DType::BF16 ? 2.5e-2 : 1e-5, grad_tol = dtype == DType::BF16 ? 8e-2 : 1e-5;
    EXPECT_TRUE(matches(outs[1], outs[0], out_tol)) << "out";
    for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(matches(grads[3 + i], grads[i], grad_tol)) << "gradient " << i;
  }
}

Tensor gpu_heads_leaf(int64_t b, int64_t h, int64_t t, int64_t d) {
  return detach(transpose(randn({b, t, h, d}, {.dtype = DType::F64, .device = kGpu}), 1, 2)).set_requires_grad();
}

TEST_F(CudaTest, GradcheckScaledDotProductAttention) {
  using Inputs = std::vector<Tensor>;
  const Tensor mask = to(random({6, 7}, DType::Bool), kGpu);
  for (bool causal : {false, true}) {
    const auto plain = [causal](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal); };
    const auto masked = [causal, mask](const Inputs& in) {
      return scaled_dot_product_attention(in[0], in[1], in[2], causal, mask);
    };
    EXPECT_GRADCHECK(plain, {gpu_heads_leaf(2, 2, 5, 3), gpu_heads_leaf(2, 2, 5, 3), gpu_heads_leaf(2, 2, 5, 4)});
    EXPECT_GRADCHECK(masked, {gpu_heads_leaf(1, 2, 6, 3), gpu_heads_leaf(1, 2, 7, 3), gpu_heads_leaf(1, 2, 7, 2)});
  }
}

}  // namespace
}  // namespace ember
