// Convolution on CUDA: im2col + cuBLAS GEMM, batched over the groups, on chunks of images.
// Depthwise convolutions (one channel per group) go to depthwise.cu's direct kernels instead.
//
// A chunk of m images is unfolded into a column matrix col [G][K][m][P] (K = C/G * KH * KW
// rows per group, P = OH * OW outputs per image), so that each group's columns are one
// K x (m P) matrix and every pass is one strided-batched GEMM per chunk:
//   forward          acc[G][O/G][m P] = w_g [O/G x K]   @ col_g                  (+ bias when stored)
//   backward data    dcol_g           = w_g^T           @ gy_g [O/G x m P]        then col2im
//   backward weight  gw_g [O/G x K]  += gy_g            @ col_g^T                 (over chunks)
// where gy_g is gy's chunk permuted to [O][m][P] by the backend's copy. GEMM results are kept
// in the compute type (f32 for bf16), so every output is rounded once, as on the CPU. col2im is
// a gather (each input pixel sums its taps): no atomics, a fixed order. Scratch comes from the
// stream-ordered pool and stays under kScratchBytes per chunk unless one image needs more.
#include <algorithm>
#include <climits>
#include <type_traits>

#include "backends/cuda/conv_geometry.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_device.h"
#include "backends/cuda/elementwise.cuh"
#include "backends/dense.h"
#include "tensor/creation.h"

namespace ember {
namespace {

constexpr int64_t kScratchBytes = int64_t{256} << 20;

using Geometry = cuda::ConvGeometry;

// Also checks that the operands (and bias or gb, when defined) share one dtype.
Geometry geometry(const char* op, const Tensor& x, const Tensor& w, const Tensor& y, const Tensor& b,
                  const Backend::Conv2dParams& p) {
  check(w.dtype() == x.dtype() && y.dtype() == x.dtype() && (!b.defined() || b.dtype() == x.dtype()), op,
        ": operands must share one dtype, got ", x.dtype(), ", ", w.dtype(), ", ", y.dtype());
  check(x.dim() == 4 && w.dim() == 4 && y.dim() == 4, op, ": expected 4-d operands, got ", x.shape(), ", ", w.shape(),
        ", ", y.shape());
  check(p.groups >= 1 && x.size(1) == w.size(1) * p.groups && w.size(0) % p.groups == 0 && y.size(1) == w.size(0) &&
            y.size(0) == x.size(0),
        op, ": shapes ", x.shape(), ", ", w.shape(), ", ", y.shape(), " do not match groups ", p.groups);
  check(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1 && p.pad_h >= 0 && p.pad_w >= 0,
        op, ": strides and dilations must be positive and padding non-negative");
  check(!b.defined() || b.numel() == w.size(0), op, ": bias of ", b.defined() ? b.numel() : 0, " elements for ",
        w.size(0), " output channels");
  auto out_size = [](int64_t in, int64_t k, int64_t s, int64_t pad, int64_t d) {
    return (in + 2 * pad - d * (k - 1) - 1) / s + 1;
  };
  check(y.size(2) == out_size(x.size(2), w.size(2), p.stride_h, p.pad_h, p.dilation_h) &&
            y.size(3) == out_size(x.size(3), w.size(3), p.stride_w, p.pad_w, p.dilation_w),
        op, ": output ", y.shape(), " does not match input ", x.shape(), " and filter ", w.shape());
  return {x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), y.size(2), y.size(3),
          p.groups,  w.size(1), w.size(0) / p.groups, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h,
          p.dilation_w};
}

// col[((ci KH + kh) KW + kw) m + n][oh OW + ow] = x[n][ci][oh sh + kh dh - ph][ow sw + kw dw - pw],
// 0 in the padding. Row (ci, kh, kw) is row k of group ci / Cg, so the rows run [G][K].
template <typename T>
struct Im2col {
  const T* x;  // the chunk's first image
  int64_t xs[4];
  T* col;
  Geometry g;
  int64_t m;
  __device__ void operator()(const int64_t (&off)[1]) const {
    int64_t i = off[0];
    const int64_t P = g.P(), p = i % P;
    i /= P;
    const int64_t n = i % m;
    i /= m;
    const int64_t kw = i % g.KW, kh = (i / g.KW) % g.KH, ci = i / (g.KW * g.KH);
    const int64_t h = (p / g.OW) * g.sh + kh * g.dh - g.ph, w = (p % g.OW) * g.sw + kw * g.dw - g.pw;
    const bool inside = h >= 0 && h < g.H && w >= 0 && w < g.W;
    col[off[0]] = inside ? x[n * xs[0] + ci * xs[1] + h * xs[2] + w * xs[3]] : cuda::narrow<T>(0.0f);
  }
};

// gx[n][ci][h][w] = the sum of dcol over the (tap, output) pairs that read (h, w): the inverse
// of Im2col, one thread per input pixel.
template <typename T, typename C>
struct Col2im {
  const C* dcol;
  T* gx;  // the chunk's first image, contiguous
  Geometry g;
  int64_t m;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0], w = i % g.W, h = (i / g.W) % g.H, ci = (i / (g.W * g.H)) % g.C;
    const int64_t n = i / (g.W * g.H * g.C), P = g.P();
    C acc = 0;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = h + g.ph - kh * g.dh;  // oh * sh
      if (ih < 0) break;                        // and below for every later tap
      if (ih % g.sh != 0 || ih / g.sh >= g.OH) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = w + g.pw - kw * g.dw;
        if (iw < 0) break;
        if (iw % g.sw != 0 || iw / g.sw >= g.OW) continue;
        const int64_t row = (ci * g.KH + kh) * g.KW + kw;
        acc += dcol[(row * m + n) * P + (ih / g.sh) * g.OW + iw / g.sw];
      }
    }
    gx[i] = cuda::narrow<T>(acc);
  }
};

// y[n][o][p] = acc[o][n][p] + bias[o], rounded once.
template <typename T, typename C>
struct StoreOutput {
  const C* acc;
  const T* bias;  // null: none
  int64_t bias_stride;
  T* y;  // the chunk's first image, contiguous
  int64_t O, P, m;
  __device__ void operator()(const int64_t (&off)[1]) const {
    const int64_t i = off[0], p = i % P, o = (i / P) % O, n = i / (O * P);
    C v = acc[(o * m + n) * P + p];
    if (bias) v += cuda::widen(bias[o * bias_stride]);
    y[i] = cuda::narrow<T>(v);
  }
};

template <typename F>
void launch(int64_t n, const F& f) {
  cuda::launch_elementwise(cuda::range_layout(n), f);
}

// One row-major operand of a GEMM: [rows x cols] with row stride ld, read transposed when asked.
struct Matrix {
  const void* data;
  bool transposed;
  int64_t ld, batch_stride;
};

int as_int(int64_t v, const char* op) {
  check(v <= INT_MAX, op, ": a GEMM size or stride of ", v, " is above 2^31 - 1");
  return static_cast<int>(v);
}

struct GemmTypes {
  cudaDataType_t data, result;
  cublasComputeType_t compute;
};

// As matmul: f32 (TF32 when switched on), f64, bf16 with f32 accumulation, here into f32 results.
GemmTypes gemm_types(DType dtype) {
  switch (dtype) {
    case DType::F64: return {CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F};
    case DType::BF16: return {CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F};
    default: return {CUDA_R_32F, CUDA_R_32F, cuda_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F};
  }
}

// c[b] = op(a[b]) @ op(b[b]) (+ c[b] when accumulating) for b < batch, row-major [M x N] results
// in the compute type. cuBLAS is column-major: it computes c^T = op(b)^T op(a)^T, so b goes first.
void gemm(const char* op, DType dtype, int64_t M, int64_t N, int64_t K, const Matrix& a, const Matrix& b, void* c,
          int64_t c_stride, int64_t batch, bool accumulate) {
  const GemmTypes types = gemm_types(dtype);
  const double alpha64 = 1, beta64 = accumulate ? 1 : 0;
  const float alpha32 = 1, beta32 = accumulate ? 1 : 0;
  const bool f64 = dtype == DType::F64;
  const cublasStatus_t status = cublasGemmStridedBatchedEx(
      cuda::cublas(), b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N,
      as_int(N, op), as_int(M, op), as_int(K, op), f64 ? static_cast<const void*>(&alpha64) : &alpha32, b.data,
      types.data, as_int(b.ld, op), b.batch_stride, a.data, types.data, as_int(a.ld, op), a.batch_stride,
      f64 ? static_cast<const void*>(&beta64) : &beta32, c, types.result, as_int(N, op), c_stride,
      as_int(batch, op), types.compute, CUBLAS_GEMM_DEFAULT);
  check(status == CUBLAS_STATUS_SUCCESS, op, ": cublasGemmStridedBatchedEx failed: ", cublasGetStatusString(status));
}

Tensor device_empty(int64_t n, DType dtype) { return empty({n}, {.dtype = dtype, .device = Device::cuda()}); }

// How many images a chunk holds so that its scratch stays under kScratchBytes (at least one).
int64_t chunk_images(const Geometry& g, size_t bytes_per_image) {
  const int64_t fit = kScratchBytes / std::max<int64_t>(static_cast<int64_t>(bytes_per_image), 1);
  return std::clamp<int64_t>(fit, 1, std::max<int64_t>(g.N, 1));
}

// Images [n0, n0 + m) of gy [N,O,OH,OW] (any strides) copied to a contiguous [O][m][P] buffer.
void permute_gradient(Backend& backend, const Tensor& gy, int64_t n0, int64_t m, const Tensor& buffer) {
  const Strides& s = gy.strides();
  const Shape shape{gy.size(1), m, gy.size(2), gy.size(3)};
  backend.copy(as_strided(gy, shape, {s[1], s[0], s[2], s[3]}, gy.offset() + n0 * s[0]),
               as_strided(buffer, shape, {m * gy.size(2) * gy.size(3), gy.size(2) * gy.size(3), gy.size(3), 1}, 0));
}

template <typename T>
Im2col<T> im2col_of(const Tensor& x, const Tensor& col, const Geometry& g, int64_t n0, int64_t m) {
  const Strides& s = x.strides();
  return {static_cast<const T*>(x.data_ptr()) + n0 * s[0], {s[0], s[1], s[2], s[3]}, static_cast<T*>(col.data_ptr()),
          g, m};
}

}  // namespace

void CudaBackend::conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, const Tensor& y) {
  cuda::check_on_device("conv2d", {&x, &w, &bias, &y});
  check(y.is_contiguous(), "conv2d: output must be contiguous");
  const Geometry g = geometry("conv2d", x, w, y, bias, p);
  if (y.numel() == 0) return;
  const Tensor wd = dense(*this, w);
  if (cuda::depthwise_applies(g)) return cuda::depthwise_forward(x, wd, bias, y, g);
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() {
    using C = compute_t<T>;
    const int64_t P = g.P(), K = g.K();
    const int64_t nb = chunk_images(g, (g.G * K * sizeof(T) + g.O * sizeof(C)) * P);
    Tensor col = device_empty(g.G * K * nb * P, x.dtype()), acc = device_empty(g.O * nb * P, dtype_of<C>::value);
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t m = std::min(nb, g.N - n0);
      if (K == 0) {
        fill(acc, 0.0);
      } else {
        launch(g.G * K * m * P, im2col_of<T>(x, col, g, n0, m));
        gemm("conv2d", x.dtype(), g.Og, m * P, K, {wd.data_ptr(), false, K, g.Og * K},
             {col.data_ptr(), false, m * P, K * m * P}, acc.data_ptr(), g.Og * m * P, g.G, false);
      }
      launch(m * g.O * P, StoreOutput<T, C>{static_cast<const C*>(acc.data_ptr()),
                                            bias.defined() ? static_cast<const T*>(bias.data_ptr()) : nullptr,
                                            bias.defined() ? bias.stride(0) : 0,
                                            static_cast<T*>(y.data_ptr()) + n0 * g.O * P, g.O, P, m});
    }
  });
}

void CudaBackend::conv2d_backward_data(const Tensor& gy, const Tensor& w, const Conv2dParams& p, const Tensor& gx) {
  cuda::check_on_device("conv2d_backward_data", {&gy, &w, &gx});
  check(gx.is_contiguous(), "conv2d_backward_data: gradient must be contiguous");
  const Geometry g = geometry("conv2d_backward_data", gx, w, gy, Tensor(), p);
  if (gx.numel() == 0) return;
  if (g.O == 0 || g.P() == 0) return fill(gx, 0.0);
  const Tensor wd = dense(*this, w);
  if (cuda::depthwise_applies(g)) return cuda::depthwise_backward_data(gy, wd, gx, g);
  dispatch_floating(gx.dtype(), "conv2d_backward_data", [&]<typename T>() {
    using C = compute_t<T>;
    const int64_t P = g.P(), K = g.K();
    const int64_t nb = chunk_images(g, (g.O * sizeof(T) + g.G * K * sizeof(C)) * P);
    Tensor gyt = device_empty(g.O * nb * P, gx.dtype()), dcol = device_empty(g.G * K * nb * P, dtype_of<C>::value);
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t m = std::min(nb, g.N - n0);
      permute_gradient(*this, gy, n0, m, gyt);
      gemm("conv2d_backward_data", gx.dtype(), K, m * P, g.Og, {wd.data_ptr(), true, K, g.Og * K},
           {gyt.data_ptr(), false, m * P, g.Og * m * P}, dcol.data_ptr(), K * m * P, g.G, false);
      launch(m * g.C * g.H * g.W, Col2im<T, C>{static_cast<const C*>(dcol.data_ptr()),
                                                static_cast<T*>(gx.data_ptr()) + n0 * g.C * g.H * g.W, g, m});
    }
  });
}

void CudaBackend::conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Conv2dParams& p, const Tensor& gw,
                                         const Tensor& gb) {
  cuda::check_on_device("conv2d_backward_weight", {&gy, &x, &gw, &gb});
  check(gw.is_contiguous() && (!gb.defined() || gb.is_contiguous()),
        "conv2d_backward_weight: gradients must be contiguous");
  const Geometry g = geometry("conv2d_backward_weight", x, gw, gy, gb, p);
  if (gb.defined()) {
    check(gb.numel() == g.O, "conv2d_backward_weight: bias gradient ", gb.shape(), " must have ", g.O, " elements");
    reduce(ReduceOp::Sum, gy, {0, 2, 3}, as_strided(gb, {1, g.O, 1, 1}, {g.O, 1, 1, 1}, gb.offset()));
  }
  if (gw.numel() == 0) return;
  if (g.N == 0 || g.P() == 0) return fill(gw, 0.0);
  if (cuda::depthwise_applies(g)) return cuda::depthwise_backward_weight(gy, x, gw, g);
  dispatch_floating(gw.dtype(), "conv2d_backward_weight", [&]<typename T>() {
    using C = compute_t<T>;
    const int64_t P = g.P(), K = g.K();
    const int64_t nb = chunk_images(g, (g.O + g.G * K) * sizeof(T) * P);
    Tensor gyt = device_empty(g.O * nb * P, gw.dtype()), col = device_empty(g.G * K * nb * P, gw.dtype());
    // bf16 sums over the chunks in f32 and rounds once at the end.
    const bool direct = std::is_same_v<T, C>;
    const Tensor accumulated = direct ? gw : device_empty(g.O * K, dtype_of<C>::value);
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t m = std::min(nb, g.N - n0);
      permute_gradient(*this, gy, n0, m, gyt);
      launch(g.G * K * m * P, im2col_of<T>(x, col, g, n0, m));
      gemm("conv2d_backward_weight", gw.dtype(), g.Og, K, m * P, {gyt.data_ptr(), false, m * P, g.Og * m * P},
           {col.data_ptr(), true, m * P, K * m * P}, accumulated.data_ptr(), g.Og * K, g.G, n0 > 0);
    }
    if (!direct) copy(as_strided(accumulated, gw.shape(), gw.strides(), 0), gw);
  });
}

}  // namespace ember
