#pragma once
// The shape of one 2-d convolution as plain data for kernels (conv.cu validates and builds it),
// and the direct depthwise path that conv.cu hands such convolutions to (depthwise.cu).
#include <cstdint>

#include "tensor/tensor.h"

namespace ember::cuda {

// x [N,C,H,W], w [O,C/G,KH,KW], y [N,O,OH,OW]; strides, paddings and dilations per axis.
struct ConvGeometry {
  int64_t N, C, H, W, O, KH, KW, OH, OW, G, Cg, Og;
  int64_t sh, sw, ph, pw, dh, dw;
  __host__ __device__ int64_t P() const { return OH * OW; }
  __host__ __device__ int64_t K() const { return Cg * KH * KW; }
};

// Filters larger than this go through im2col + GEMM even when depthwise.
constexpr int64_t kDepthwiseMaxTaps = 64;

// Whether the direct depthwise kernels handle g: one input and one output channel per group.
bool depthwise_applies(const ConvGeometry& g);
// w dense [C,1,KH,KW]; x and gy any strides; y, gx and gw contiguous; bias (or none) any stride.
void depthwise_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g);
void depthwise_backward_data(const Tensor& gy, const Tensor& w, const Tensor& gx, const ConvGeometry& g);
void depthwise_backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw, const ConvGeometry& g);

}  // namespace ember::cuda
