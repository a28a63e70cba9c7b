// CUDA vs CPU on convolution and pooling: each backend primitive, forward and backward, in f32,
// f64 and bf16, over strides, padding, dilation, groups (depthwise included), non-square and
// conv1d-shaped kernels, strided operands, several column-buffer chunks, fixed and adaptive
// windows; then the autograd ops on CUDA tensors against CPU tensors, and f64 gradient checks
// on the GPU.
//
// Tolerances: tolerance(dtype) relative to sqrt(terms summed), the typical magnitude of a sum of
// unit products. bf16 needs nothing looser: both backends multiply exact bf16 values, sum in f32
// (the CUDA GEMMs write f32 results) and round once, so they differ by at most one bf16 ulp
// (2^-7 relative < 1e-2). Max pool's backward adds up to four gradients per input in the
// element type in any order (atomics), hence its scale of 2.
#include <cmath>
#include <string>

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
using Inputs = std::vector<Tensor>;
using ConvParams = Backend::Conv2dParams;
using PoolParams = Backend::Pool2dParams;

const DType kFloating[] = {DType::F32, DType::F64, DType::BF16};

// How an operand lies in memory: contiguous, its last two dims transposed, or channels-last
// ([N,H,W,C] memory: channel stride 1, as the Hyena operator's transposed projection).
enum class Memory { Dense, Transposed, ChannelsLast };

Both operand(const Shape& shape, DType dtype, Memory memory) {
  switch (memory) {
    case Memory::Dense: return both(random(shape, dtype));
    case Memory::Transposed: return both(random_transposed(shape, dtype));
    case Memory::ChannelsLast:
      return both(detach(permute(random({shape[0], shape[2], shape[3], shape[1]}, dtype), {0, 3, 1, 2})));
  }
  return {};
}

Both operand(const Shape& shape, DType dtype, bool strided) {
  return operand(shape, dtype, strided ? Memory::Transposed : Memory::Dense);
}

struct ConvCase {
  const char* name;
  int64_t N, C, H, W, O, KH, KW;
  ConvParams p;
  bool bias, strided;  // strided: x, w and gy are transposed views
};

const ConvCase kConvCases[] = {
    {"plain 3x3", 2, 3, 7, 6, 4, 3, 3, {}, true, false},
    {"stride 2, padding 1", 2, 4, 9, 8, 6, 3, 3, {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}, true, true},
    {"dilation 2, 3x2 kernel", 1, 3, 10, 9, 2, 3, 2, {.pad_h = 2, .pad_w = 1, .dilation_h = 2, .dilation_w = 2}, false,
     false},
    {"groups 2, stride (1, 2)", 2, 4, 6, 7, 6, 2, 3, {.stride_w = 2, .pad_h = 1, .groups = 2}, true, true},
    {"depthwise", 2, 5, 8, 8, 5, 3, 3, {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .groups = 5}, true,
     false},
    {"depthwise, multiplier 2, dilation (2, 1)", 3, 3, 6, 5, 6, 3, 3,
     {.pad_h = 1, .pad_w = 1, .dilation_h = 2, .groups = 3}, false, true},
    {"conv1d-shaped (H = 1)", 3, 4, 1, 20, 5, 1, 5, {.pad_w = 2, .dilation_w = 2}, true, false},
    {"depthwise conv1d, Hyena's short filter", 2, 12, 1, 3000, 12, 1, 3, {.pad_w = 2, .groups = 12}, true, true},
    {"depthwise conv1d, long rows (several weight slices)", 1, 4, 1, 12000, 4, 1, 3,
     {.pad_w = 1, .dilation_w = 3, .groups = 4}, true, false},
    {"depthwise conv1d, 40 channels, odd length (tiled)", 2, 40, 1, 1001, 40, 1, 3, {.pad_w = 2, .groups = 40}, true,
     false},
    {"depthwise 3x3, stride 2, 20 channels, wide rows (tiled)", 2, 20, 5, 131, 20, 3, 3,
     {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .dilation_h = 2, .groups = 20}, true, true},
    {"1x1, stride 3", 2, 8, 5, 5, 3, 1, 1, {.stride_h = 3, .stride_w = 3}, true, true},
    {"16 -> 32 channels", 4, 16, 12, 12, 32, 3, 3, {.pad_h = 1, .pad_w = 1}, true, false},
};

int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
}

// Every conv primitive on both backends, each pass from the same inputs; x and gy laid out as
// given (w transposed where the case is strided).
void expect_conv_parity(const ConvCase& c, DType dtype, Memory x_memory, Memory gy_memory) {
  SCOPED_TRACE(std::string(c.name) + " " + dtype_name(dtype));
  const ConvParams& p = c.p;
  const Shape xs{c.N, c.C, c.H, c.W}, ws{c.O, c.C / p.groups, c.KH, c.KW};
  const Shape ys{c.N, c.O, out_size(c.H, c.KH, p.stride_h, p.pad_h, p.dilation_h),
                 out_size(c.W, c.KW, p.stride_w, p.pad_w, p.dilation_w)};
  Both x = operand(xs, dtype, x_memory), w = operand(ws, dtype, c.strided);
  Both bias = c.bias ? both(random({c.O}, dtype)) : Both{};
  Both y = empty_both(ys, dtype);
  on_both([&](Backend& b, bool g) { b.conv2d(x.on(g), w.on(g), bias.on(g), p, y.on(g)); });
  const double tol = tolerance(dtype);
  EXPECT_TRUE(close(y, tol, std::sqrt(static_cast<double>(ws[1] * c.KH * c.KW)))) << "forward";

  Both gy = operand(ys, dtype, gy_memory), gx = empty_both(xs, dtype);
  on_both([&](Backend& b, bool g) { b.conv2d_backward_data(gy.on(g), w.on(g), p, gx.on(g)); });
  EXPECT_TRUE(close(gx, tol, std::sqrt(static_cast<double>(c.O / p.groups * c.KH * c.KW)))) << "backward data";

  Both gw = empty_both(ws, dtype), gb = c.bias ? empty_both({c.O}, dtype) : Both{};
  on_both([&](Backend& b, bool g) { b.conv2d_backward_weight(gy.on(g), x.on(g), p, gw.on(g), gb.on(g)); });
  const double per_weight = std::sqrt(static_cast<double>(c.N * ys[2] * ys[3]));
  EXPECT_TRUE(close(gw, tol, per_weight)) << "backward weight";
  if (c.bias) {
    EXPECT_TRUE(close(gb, tol, per_weight)) << "bias gradient";
  }
}

void expect_conv_parity(const ConvCase& c, DType dtype) {
  const Memory memory = c.strided ? Memory::Transposed : Memory::Dense;
  expect_conv_parity(c, dtype, memory, memory);
}

TEST_F(CudaTest, Conv2dForwardAndBackwardOverGeometries) {
  for (DType dtype : kFloating)
    for (const ConvCase& c : kConvCases) expect_conv_parity(c, dtype);
}

// Depthwise convolutions of a channels-last x (channel stride 1: the Hyena operator's short
// filter runs on a transposed view of its [B, L, 3d] projection) over rows of 32 outputs or more
// and 16 channels or more take the tiled kernels that read along channels; gy contiguous (as
// Hyena's) or channels-last too. Channel counts and lengths that are not multiples of the
// 32 x 64 tile, a 2-d kernel with stride and dilation, and rows long enough for several weight
// slices; the last case has 12 channels, below the tiles, for the per-output kernels.
TEST_F(CudaTest, DepthwiseConvOfChannelsLastInputs) {
  const ConvCase cases[] = {
      {"Hyena's short filter: kernel 3, padding 2, 40 channels, odd length", 2, 40, 1, 1001, 40, 1, 3,
       {.pad_w = 2, .groups = 40}, true, false},
      {"3x3, stride 2, dilation (2, 1), 20 channels", 2, 20, 7, 131, 20, 3, 3,
       {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .dilation_h = 2, .groups = 20}, true, false},
      {"kernel 5, dilation 2, 33 channels, several weight slices", 1, 33, 1, 12001, 33, 1, 5,
       {.pad_w = 4, .dilation_w = 2, .groups = 33}, false, false},
      {"kernel 3, padding 2, 12 channels (per-output kernels)", 2, 12, 1, 301, 12, 1, 3, {.pad_w = 2, .groups = 12},
       true, false},
  };
  for (DType dtype : kFloating)
    for (const ConvCase& c : cases)
      for (Memory gy_memory : {Memory::Dense, Memory::ChannelsLast}) {
        SCOPED_TRACE(gy_memory == Memory::Dense ? "gy contiguous" : "gy channels-last");
        expect_conv_parity(c, dtype, Memory::ChannelsLast, gy_memory);
      }
}

// Five 1280 x 1280 images of 2 channels with a 3x3 kernel need 65 to 260 MB of scratch each
// (by pass and dtype), so every pass runs in chunks of 1 to 4 images under the 256 MB bound and
// the weight gradient accumulates across them. f64 and bf16 only: f32 sums of 8M terms in two
// different orders differ beyond 1e-5 of their scale.
TEST_F(CudaTest, Conv2dOverSeveralColumnChunks) {
  const ConvCase c{"chunks", 5, 2, 1280, 1280, 2, 3, 3, {.pad_h = 1, .pad_w = 1}, true, false};
  for (DType dtype : {DType::F64, DType::BF16}) expect_conv_parity(c, dtype);
}

struct PoolCase {
  const char* name;
  Shape x;
  PoolParams p;
  int64_t OH, OW;  // adaptive windows only; fixed ones follow from p
  bool strided;    // x and gy are transposed views
};

PoolParams fixed(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph = 0, int64_t pw = 0) {
  return {kh, kw, sh, sw, ph, pw, false};
}

const PoolCase kFixedCases[] = {
    {"2x2, stride 2", {2, 3, 8, 8}, fixed(2, 2, 2, 2), 0, 0, false},
    {"3x3, stride 2, padding 1", {2, 3, 9, 8}, fixed(3, 3, 2, 2, 1, 1), 0, 0, true},
    {"3x2, stride (1, 2), padding 1", {1, 2, 7, 6}, fixed(3, 2, 1, 2, 1, 1), 0, 0, false},
    {"1x3 over H = 1, padding (0, 1)", {2, 2, 1, 9}, fixed(1, 3, 1, 1, 0, 1), 0, 0, true},
};

const PoolCase kAdaptiveCases[] = {
    {"adaptive 7x5 -> 3x4", {2, 3, 7, 5}, {.adaptive = true}, 3, 4, false},
    {"adaptive 5x3 -> 4x7", {1, 2, 5, 3}, {.adaptive = true}, 4, 7, true},
    {"adaptive 6x6 -> 1x1", {2, 2, 6, 6}, {.adaptive = true}, 1, 1, false},
    {"adaptive 5x5 -> 5x5", {2, 2, 5, 5}, {.adaptive = true}, 5, 5, true},
};

Shape pool_output(const PoolCase& c) {
  if (c.p.adaptive) return {c.x[0], c.x[1], c.OH, c.OW};
  return {c.x[0], c.x[1], (c.x[2] + 2 * c.p.pad_h - c.p.kernel_h) / c.p.stride_h + 1,
          (c.x[3] + 2 * c.p.pad_w - c.p.kernel_w) / c.p.stride_w + 1};
}

TEST_F(CudaTest, MaxPool2dForwardAndBackward) {
  for (DType dtype : kFloating) {
    for (const PoolCase& c : kFixedCases) {
      SCOPED_TRACE(std::string(c.name) + " " + dtype_name(dtype));
      const Shape ys = pool_output(c);
      Both x = operand(c.x, dtype, c.strided), y = empty_both(ys, dtype), indices = empty_both(ys, DType::I64);
      on_both([&](Backend& b, bool g) { b.max_pool2d(x.on(g), c.p, y.on(g), indices.on(g)); });
      EXPECT_TRUE(close(y, 0)) << "forward";  // a max is exact
      EXPECT_EQ(indices.gpu.to_vector<int64_t>(), indices.cpu.to_vector<int64_t>());
      // The backward from the CPU's indices on both sides, so it is tested on its own.
      Both gy = operand(ys, dtype, c.strided), saved = both(indices.cpu), gx = empty_both(c.x, dtype);
      on_both([&](Backend& b, bool g) { b.max_pool2d_backward(gy.on(g), saved.on(g), gx.on(g)); });
      EXPECT_TRUE(close(gx, tolerance(dtype), 2)) << "backward";
    }
  }
}

TEST_F(CudaTest, MaxPool2dNaNWinsItsWindowAsOnTheCpu) {
  const float nan = NAN;
  Both x = both(from_vector<float>({1, nan, 3, 4, 5, 6, 7, nan, 9, 10, 11, 12, 13, 14, nan, 16}, {1, 1, 4, 4}));
  Both y = empty_both({1, 1, 3, 3}, DType::F32), indices = empty_both({1, 1, 3, 3}, DType::I64);
  on_both([&](Backend& b, bool g) { b.max_pool2d(x.on(g), fixed(2, 2, 1, 1), y.on(g), indices.on(g)); });
  EXPECT_TRUE(close(y, 0));
  EXPECT_EQ(indices.gpu.to_vector<int64_t>(), indices.cpu.to_vector<int64_t>());
}

TEST_F(CudaTest, AvgPool2dFixedAndAdaptiveForwardAndBackward) {
  for (DType dtype : kFloating) {
    for (const auto* cases : {&kFixedCases, &kAdaptiveCases}) {
      for (const PoolCase& c : *cases) {
        SCOPED_TRACE(std::string(c.name) + " " + dtype_name(dtype));
        const Shape ys = pool_output(c);
        Both x = operand(c.x, dtype, c.strided), y = empty_both(ys, dtype);
        on_both([&](Backend& b, bool g) { b.avg_pool2d(x.on(g), c.p, y.on(g)); });
        EXPECT_TRUE(close(y, tolerance(dtype))) << "forward";
        Both gy = operand(ys, dtype, c.strided), gx = empty_both(c.x, dtype);
        on_both([&](Backend& b, bool g) { b.avg_pool2d_backward(gy.on(g), c.p, gx.on(g)); });
        EXPECT_TRUE(close(gx, tolerance(dtype))) << "backward";
      }
    }
  }
}

// conv2d -> max pool and adaptive average pool through autograd, on either device from the same
// values: the outputs and every gradient agree. f32 only: in bf16 a rounding difference in the
// conv output could move a window's argmax.
TEST_F(CudaTest, ConvAndPoolOpsGiveTheCpuValuesAndGradients) {
  const Tensor x = randn({2, 3, 9, 9}), w = randn({4, 3, 3, 3}), b = randn({4});
  const Tensor r1 = randn({2, 4, 5, 5}), r2 = randn({2, 4, 3, 4});
  auto run = [&](Device device) {
    const Tensor xd = detach(to(x, device)).set_requires_grad(), wd = detach(to(w, device)).set_requires_grad();
    const Tensor bd = detach(to(b, device)).set_requires_grad();
    const Tensor y = conv2d(xd, wd, bd, {1, 1}, {1, 1});
    const Tensor pooled = max_pool2d(y, {3, 3}, Size2{2, 2}, {1, 1});
    backward(sum(pooled * to(r1, device)) + sum(adaptive_avg_pool2d(y, {3, 4}) * to(r2, device)));
    return std::vector<Tensor>{pooled, xd.grad(), wd.grad(), bd.grad()};
  };
  const std::vector<Tensor> cpu = run(Device::cpu()), gpu = run(Device::cuda());
  const double tol = tolerance(DType::F32);
  EXPECT_TRUE(close(gpu[0], cpu[0], tol, std::sqrt(27.0))) << "pooled output";
  EXPECT_TRUE(close(gpu[1], cpu[1], tol, std::sqrt(36.0))) << "x gradient";
  EXPECT_TRUE(close(gpu[2], cpu[2], tol, std::sqrt(162.0))) << "weight gradient";
  EXPECT_TRUE(close(gpu[3], cpu[3], tol, std::sqrt(162.0))) << "bias gradient";
}

Tensor gpu_leaf(const Shape& shape) {
  return randn(shape, {.dtype = DType::F64, .device = Device::cuda()}).set_requires_grad();
}

Tensor gpu_transposed_leaf(const Shape& shape) {
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  return detach(transpose(randn(swapped, {.dtype = DType::F64, .device = Device::cuda()}), -1, -2))
      .set_requires_grad();
}

TEST_F(CudaTest, GradcheckConvAndPoolOnTheGpu) {
  EXPECT_GRADCHECK([](const Inputs& v) { return conv2d(v[0], v[1], v[2], {2, 1}, {1, 2}, {1, 2}, 2); },
                   {gpu_leaf({2, 4, 6, 7}), gpu_transposed_leaf({4, 2, 3, 2}), gpu_leaf({4})});
  EXPECT_GRADCHECK([](const Inputs& v) { return conv1d(v[0], v[1], Tensor(), 2, 1, 1, 3); },
                   {gpu_transposed_leaf({2, 3, 10}), gpu_leaf({6, 1, 3})});
  EXPECT_GRADCHECK([](const Inputs& v) { return max_pool2d(v[0], {3, 3}, Size2{2, 2}, {1, 1}); },
                   {gpu_leaf({1, 2, 7, 6})});
  EXPECT_GRADCHECK([](const Inputs& v) { return avg_pool2d(v[0], {3, 2}, Size2{2, 1}, {1, 1}); },
                   {gpu_transposed_leaf({1, 2, 5, 5})});
  EXPECT_GRADCHECK([](const Inputs& v) { return adaptive_avg_pool2d(v[0], {4, 3}); }, {gpu_leaf({1, 2, 5, 7})});
}

}  // namespace
}  // namespace ember
