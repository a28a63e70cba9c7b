// Fused scaled dot-product attention on CUDA: the entry points, and the path for what neither
// the tensor-core kernels nor the GEMM path take.
//
// Dispatch: bf16 with D = Dv = 64 or 128 and 16-byte aligned rows runs FlashAttention-2 on
// tensor cores (attention_fwd.cu, attention_bwd.cu; dQ summed in an f32 scratch, scaled into gq
// by dq_finish_kernel). f32 and f64 (any head dims, any layout, Tk > 0) run on cuBLAS
// (attention_gemm.cu): the scores of a chunk of query rows for all heads as batched GEMMs (per-
// head pointers where the heads are interleaved), a row kernel for softmax / dropout / dS, GEMMs
// again for the products. What is left
// (bf16 with other head dims up to 128 or odd layouts, and empty head dims or key sets) runs the
// kernels below, on CUDA cores in the compute type, exact rather than fast:
// - forward: a warp per query row; for each tile of 32 keys, lane j computes score j (a dot
//   product against the row of q staged in shared memory), the warp folds the tile into the
//   row's running max and sum (online softmax), and each lane accumulates its D / 32 output
//   columns over the tile's keys (probabilities broadcast by shuffles).
// - backward: delta = rowsum(dO o O) first (delta_kernel, shared with the other paths); then
//   dQ with a warp per query row (lanes over keys, as the forward) and dK, dV with a warp per
//   key row (lanes over queries). Both recompute the probabilities from lse; neither needs
//   atomics, so the results are deterministic.
// These kernels never form the [Tq, Tk] score matrix. Visibility (causal, mask, bounds) and
// dropout (the CPU's Philox stream, element ((b H + h) Tq + i) Tk + j) come from Rules in
// attention_common.cuh, so every path and the CPU drop the same elements.
#include <limits>
#include <utility>

#include "backends/cuda/attention_common.cuh"
#include "backends/cuda/attention_gemm.h"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/dense.h"
#include "backends/host_checks.h"
#include "tensor/creation.h"

namespace ember {
namespace cuda::attention {

Rules rules_of(const Tensor& q, const Tensor& k, const Tensor& mask, const Backend::AttentionParams& p) {
  Rules r;
  if (mask.defined()) {
    r.mask = static_cast<const bool*>(mask.data_ptr());
    r.mb = mask.stride(0);
    r.mh = mask.stride(1);
    r.mi = mask.stride(2);
    r.mj = mask.stride(3);
  }
  r.heads = q.size(1);
  r.tq = q.size(2);
  r.tk = k.size(2);
  r.causal = p.causal;
  r.dropout = p.dropout_p > 0;
  r.drop_p = static_cast<float>(p.dropout_p);
  r.keep = p.dropout_p < 1 ? 1 / (1 - p.dropout_p) : 0;
  r.seed = p.seed;
  r.offset = p.offset;
  return r;
}

}  // namespace cuda::attention

namespace {

using cuda::attention::Heads;
using cuda::attention::heads_of;
using cuda::attention::Rules;
using cuda::attention::warp_max;
using cuda::attention::warp_sum;

constexpr int kMaxDim = 128;            // head dims the CUDA-core kernels take
constexpr int kPerLane = kMaxDim / 32;  // output columns per lane
constexpr int kWarps = 4;               // rows per block of the CUDA-core kernels
constexpr unsigned kFull = 0xffffffffu;

// dst[c] = row[c] widened, c < n, by the warp's lanes.
template <typename T, typename C>
__device__ __forceinline__ void stage_row(C* dst, const T* row, int n, int lane) {
  for (int c = lane; c < n; c += 32) dst[c] = cuda::widen(row[c]);
  __syncwarp();
}

template <typename T, typename C>
__device__ __forceinline__ C dot(const C* a, const T* row, int n) {
  C s = 0;
  for (int c = 0; c < n; ++c) s += a[c] * cuda::widen(row[c]);
  return s;
}

// acc[u] += sum over the tile's n items jj of coef_jj x[jj][lane + 32 u], coef_jj held by lane jj.
template <typename T, typename C>
__device__ __forceinline__ void accumulate(C (&acc)[kPerLane], C coef, int n, const Heads<const T>& x, int64_t b,
                                           int64_t h, int64_t first, int width, int lane) {
  for (int jj = 0; jj < n; ++jj) {
    const C cj = __shfl_sync(kFull, coef, jj);
    if (cj == C(0)) continue;  // the same for every lane
    const T* row = x.row(b, h, first + jj);
#pragma unroll
    for (int u = 0; u < kPerLane; ++u) {
      const int c = lane + 32 * u;
      if (c < width) acc[u] += cj * cuda::widen(row[c]);
    }
  }
}

template <typename T>
struct Operands {
  Heads<const T> q, k, v;
  Rules rules;
  compute_t<T> scale;
  int64_t bh;
  int d, dv;
};

template <typename T>
__global__ void __launch_bounds__(kWarps * 32)
    forward_kernel(Operands<T> a, Heads<T> out, compute_t<T>* lse) {
  using C = compute_t<T>;
  __shared__ C q_s[kWarps][kMaxDim];
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const Rules& r = a.rules;
  const int64_t bh = blockIdx.x % a.bh, i = blockIdx.x / a.bh * kWarps + warp;
  if (i >= r.tq) return;  // whole warps leave; no block barrier follows
  const int64_t b = bh / r.heads, h = bh % r.heads;
  stage_row(q_s[warp], a.q.row(b, h, i), a.d, lane);
  constexpr C kHidden = -std::numeric_limits<C>::infinity();
  const C keep = static_cast<C>(r.keep);
  C m = kHidden, l = 0, acc[kPerLane] = {};
  const int64_t key_end = r.causal ? min(r.tk, i + 1) : r.tk;
  for (int64_t j0 = 0; j0 < key_end; j0 += 32) {
    const int64_t j = j0 + lane;
    const bool seen = j < key_end && r.visible(bh, i, j);
    const C s = seen ? dot(q_s[warp], a.k.row(b, h, j), a.d) * a.scale : kHidden;
    const C m_new = max(m, warp_max(s));
    const C m_use = m_new == kHidden ? C(0) : m_new;  // no key seen yet: all weights 0
    const C correction = std::exp(m - m_use);
    C p = seen ? std::exp(s - m_use) : C(0);
    l = l * correction + warp_sum(p);
    m = m_new;
    if (r.dropout && seen) p *= r.kept(bh, i, j) ? keep : C(0);
#pragma unroll
    for (int u = 0; u < kPerLane; ++u) acc[u] *= correction;
    accumulate(acc, p, static_cast<int>(min(int64_t{32}, key_end - j0)), a.v, b, h, j0, a.dv, lane);
  }
  const C inv = l > 0 ? C(1) / l : C(0);  // a row that saw no key gets 0 and lse = -inf
  T* o = out.row(b, h, i);
#pragma unroll
  for (int u = 0; u < kPerLane; ++u)
    if (lane + 32 * u < a.dv) o[lane + 32 * u] = cuda::narrow<T>(acc[u] * inv);
  if (lane == 0) lse[bh * r.tq + i] = l > 0 ? m + std::log(l) : kHidden;
}

// delta[row] = rowsum(dO o O), the softmax backward's row term (dropout included), in the
// compute type; a warp per row. delta_rows_kernel below is the fast form of the same sum.
template <typename T>
__global__ void __launch_bounds__(kWarps * 32)
    delta_kernel(Heads<const T> out, Heads<const T> gout, int64_t heads, int64_t tq, int64_t rows, int dv,
                 compute_t<T>* delta) {
  using C = compute_t<T>;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (row >= rows) return;
  const int64_t bh = row / tq, i = row % tq;
  const T* o = out.row(bh / heads, bh % heads, i);
  const T* g = gout.row(bh / heads, bh % heads, i);
  C s = 0;
  for (int c = lane; c < dv; c += 32) s += cuda::widen(o[c]) * cuda::widen(g[c]);
  s = warp_sum(s);
  if (lane == 0) delta[row] = s;
}

// The same for rows of whole, aligned 16-byte chunks (Dv = 64 or 128 in bf16 or f32): Lanes
// threads per row, each loading 16 bytes of O and dO at a time, so that a warp reads 32 / Lanes
// rows in full lines. (A warp per row, with two bf16 per lane, read each line in pieces: 82 us
// for the 4096-token attention benchmark's 33 MB of O and dO, about 4x the bandwidth's time.)
constexpr int kDeltaThreads = 256;
template <typename T, int Lanes>
__global__ void __launch_bounds__(kDeltaThreads)
    delta_rows_kernel(Heads<const T> out, Heads<const T> gout, int64_t heads, int64_t tq, int64_t rows, int chunks,
                      compute_t<T>* delta) {
  using C = compute_t<T>;
  constexpr int kPerChunk = 16 / sizeof(T);
  struct alignas(16) Chunk {
    T v[kPerChunk];
  };
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * kDeltaThreads + threadIdx.x) / Lanes;
  const int sub = static_cast<int>(threadIdx.x) % Lanes;
  const bool valid = row < rows;  // no early return: the group's lanes shuffle below
  C s = 0;
  if (valid) {
    const int64_t bh = row / tq, i = row - bh * tq;
    const auto* o = reinterpret_cast<const Chunk*>(out.row(bh / heads, bh % heads, i));
    const auto* g = reinterpret_cast<const Chunk*>(gout.row(bh / heads, bh % heads, i));
    for (int c = sub; c < chunks; c += Lanes) {
      const Chunk x = o[c], y = g[c];
#pragma unroll
      for (int e = 0; e < kPerChunk; ++e) s += cuda::widen(x.v[e]) * cuda::widen(y.v[e]);
    }
  }
#pragma unroll
  for (int offset = Lanes / 2; offset > 0; offset /= 2) s += __shfl_xor_sync(kFull, s, offset);
  if (valid && sub == 0) delta[row] = s;
}

// The backward's per-row inputs besides the operands.
template <typename T>
struct RowGrads {
  Heads<const T> gout;
  const compute_t<T>* lse;
  const compute_t<T>* delta;
};

// gq row i = scale * sum_j dS_ij k_j: a warp per query row, lanes over keys.
template <typename T>
__global__ void __launch_bounds__(kWarps * 32) backward_dq_kernel(Operands<T> a, RowGrads<T> g, T* gq) {
  using C = compute_t<T>;
  __shared__ C q_s[kWarps][kMaxDim];
  __shared__ C g_s[kWarps][kMaxDim];
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const Rules& r = a.rules;
  const int64_t bh = blockIdx.x % a.bh, i = blockIdx.x / a.bh * kWarps + warp;
  if (i >= r.tq) return;
  const int64_t b = bh / r.heads, h = bh % r.heads;
  stage_row(q_s[warp], a.q.row(b, h, i), a.d, lane);
  stage_row(g_s[warp], g.gout.row(b, h, i), a.dv, lane);
  const C li = g.lse[bh * r.tq + i], di = g.delta[bh * r.tq + i], keep = static_cast<C>(r.keep);
  C acc[kPerLane] = {};
  const int64_t key_end = r.causal ? min(r.tk, i + 1) : r.tk;
  for (int64_t j0 = 0; j0 < key_end; j0 += 32) {
    const int64_t j = j0 + lane;
    C ds = 0;
    if (j < key_end && r.visible(bh, i, j)) {
      const C p = std::exp(dot(q_s[warp], a.k.row(b, h, j), a.d) * a.scale - li);
      C dp = dot(g_s[warp], a.v.row(b, h, j), a.dv);
      if (r.dropout) dp *= r.kept(bh, i, j) ? keep : C(0);
      ds = p * (dp - di);
    }
    accumulate(acc, ds, static_cast<int>(min(int64_t{32}, key_end - j0)), a.k, b, h, j0, a.d, lane);
  }
  T* out = gq + (bh * r.tq + i) * a.d;
#pragma unroll
  for (int u = 0; u < kPerLane; ++u)
    if (lane + 32 * u < a.d) out[lane + 32 * u] = cuda::narrow<T>(acc[u] * a.scale);
}

// gk row j = scale * sum_i dS_ij q_i and gv row j = sum_i P'_ij dO_i (P' with dropout): a warp
// per key row, lanes over queries.
template <typename T>
__global__ void __launch_bounds__(kWarps * 32) backward_dkv_kernel(Operands<T> a, RowGrads<T> g, T* gk, T* gv) {
  using C = compute_t<T>;
  __shared__ C k_s[kWarps][kMaxDim];
  __shared__ C v_s[kWarps][kMaxDim];
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const Rules& r = a.rules;
  const int64_t bh = blockIdx.x % a.bh, j = blockIdx.x / a.bh * kWarps + warp;
  if (j >= r.tk) return;
  const int64_t b = bh / r.heads, h = bh % r.heads;
  stage_row(k_s[warp], a.k.row(b, h, j), a.d, lane);
  stage_row(v_s[warp], a.v.row(b, h, j), a.dv, lane);
  const C keep = static_cast<C>(r.keep);
  C dk[kPerLane] = {}, dv[kPerLane] = {};
  for (int64_t i0 = r.causal ? j : 0; i0 < r.tq; i0 += 32) {
    const int64_t i = i0 + lane;
    C p = 0, ds = 0;
    if (r.visible(bh, i, j)) {
      p = std::exp(dot(k_s[warp], a.q.row(b, h, i), a.d) * a.scale - g.lse[bh * r.tq + i]);
      C dp = dot(v_s[warp], g.gout.row(b, h, i), a.dv);
      const C z = r.dropout ? (r.kept(bh, i, j) ? keep : C(0)) : C(1);
      ds = p * (dp * z - g.delta[bh * r.tq + i]);
      p *= z;
    }
    const int n = static_cast<int>(min(int64_t{32}, r.tq - i0));
    accumulate(dv, p, n, g.gout, b, h, i0, a.dv, lane);
    accumulate(dk, ds, n, a.q, b, h, i0, a.d, lane);
  }
  T* k_out = gk + (bh * r.tk + j) * a.d;
  T* v_out = gv + (bh * r.tk + j) * a.dv;
#pragma unroll
  for (int u = 0; u < kPerLane; ++u) {
    const int c = lane + 32 * u;
    if (c < a.d) k_out[c] = cuda::narrow<T>(dk[u] * a.scale);
    if (c < a.dv) v_out[c] = cuda::narrow<T>(dv[u]);
  }
}

// gq = bf16(scale * dq_accum), the tensor-core backward's last step; dq_accum is contiguous
// [B H, Tq, D], gq any [B,H,Tq,D] layout with rows on 4 bytes (pair_aligned). A thread converts
// 4 columns (D is 64 or 128): one 16-byte load, two bf16-pair stores, and the row's position
// found once per 4 elements, in I (uint32_t where the element count fits).
template <typename I>
__global__ void dq_finish_kernel(const float* dq_accum, Heads<bf16> gq, I heads, I tq, I d, I groups, float scale) {
  for (I q = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; q < groups;
       q += static_cast<I>(gridDim.x) * blockDim.x) {
    const I e = q * 4, row = e / d, c = e - row * d, bh = row / tq, i = row - bh * tq;
    const float4 x = *reinterpret_cast<const float4*>(dq_accum + e);
    auto* to = reinterpret_cast<__nv_bfloat162*>(gq.row(bh / heads, bh % heads, i) + c);
    to[0] = __floats2bfloat162_rn(x.x * scale, x.y * scale);
    to[1] = __floats2bfloat162_rn(x.z * scale, x.w * scale);
  }
}

unsigned row_blocks(int64_t rows_per_head, int64_t heads, const char* op) {
  const int64_t blocks = (rows_per_head + kWarps - 1) / kWarps * heads;
  check(blocks <= std::numeric_limits<int32_t>::max(), op, ": too many rows (", blocks, " blocks)");
  return static_cast<unsigned>(blocks);
}

// ---- argument checks and dispatch ----

// The CUDA-core kernels keep a row of q (or k, v) and of the output per warp.
void check_head_dims(const char* op, const Tensor& q, const Tensor& v) {
  check(q.size(3) <= kMaxDim && v.size(3) <= kMaxDim, op, ": head dims up to ", kMaxDim, " for ", q.dtype(),
        " on CUDA, got q ", q.shape(), " and v ", v.shape());
}

// Whether t's [B,H,T,C] rows all start on 16 bytes: the layout the tensor-core kernels read
// (rows of 64 or 128 bf16).
bool aligned_rows(const Tensor& t) {
  const auto bytes = static_cast<int64_t>(dtype_size(t.dtype()));
  bool ok = reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
  for (int64_t d = 0; d < 3; ++d) ok = ok && (t.size(d) <= 1 || t.stride(d) * bytes % 16 == 0);
  return ok;
}

// ... and hold whole 16-byte chunks (delta_rows_kernel's loads).
bool chunked_rows(const Tensor& t) {
  return aligned_rows(t) && t.size(3) * static_cast<int64_t>(dtype_size(t.dtype())) % 16 == 0;
}

// The tensor-core kernels store outputs as bf16 pairs: every row starts on 4 bytes.
bool pair_aligned(const Tensor& t) {
  bool ok = reinterpret_cast<uintptr_t>(t.data_ptr()) % 4 == 0;
  for (int64_t d = 0; d < 3; ++d) ok = ok && (t.size(d) <= 1 || t.stride(d) % 2 == 0);
  return ok;
}

bool tensor_core_path(const Tensor& q, const Tensor& k, const Tensor& v) {
  const int64_t d = q.size(3);
  return q.dtype() == DType::BF16 && (d == 64 || d == 128) && v.size(3) == d && aligned_rows(q) && aligned_rows(k) &&
         aligned_rows(v);
}

template <typename T>
Operands<T> operands(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                     const Backend::AttentionParams& p) {
  return {heads_of<const T>(q),
          heads_of<const T>(k),
          heads_of<const T>(v),
          cuda::attention::rules_of(q, k, mask, p),
          static_cast<compute_t<T>>(p.scale),
          q.size(0) * q.size(1),
          static_cast<int>(q.size(3)),
          static_cast<int>(v.size(3))};
}

}  // namespace

void CudaBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                            const AttentionParams& p, const Tensor& out, const Tensor& lse) {
  constexpr const char* kOp = "attention";
  host_checks::check_attention_operands(kOp, q, k, v, mask);
  cuda::check_on_device(kOp, {&q, &k, &v, &mask, &out, &lse});
  const int64_t bh = q.size(0) * q.size(1), tq = q.size(2);
  host_checks::check_attention_rows(kOp, "out", out);
  check(out.shape() == Shape({q.size(0), q.size(1), tq, v.size(3)}) && out.dtype() == q.dtype(), kOp,
        ": out must be a [B,H,Tq,Dv] tensor of q's dtype, got ", out.dtype(), " ", out.shape());
  check(lse.is_contiguous() && lse.numel() == bh * tq &&
            lse.dtype() == (q.dtype() == DType::F64 ? DType::F64 : DType::F32),
        kOp, ": lse must be a contiguous [B,H,Tq] tensor of the compute type, got ", lse.dtype(), " ", lse.shape());
  if (bh * tq == 0) return;
  if (tensor_core_path(q, k, v) && pair_aligned(out)) {
    const Rules rules = cuda::attention::rules_of(q, k, mask, p);
    cuda::attention::flash_forward({heads_of<const bf16>(q), heads_of<const bf16>(k), heads_of<const bf16>(v),
                                    heads_of<bf16>(out), static_cast<float*>(lse.data_ptr()), rules,
                                    static_cast<float>(p.scale), bh},
                                   static_cast<int>(q.size(3)));
    return;
  }
  if (cuda::attention::gemm_path(q, k, v)) {
    // The GEMM path writes out where it lies, whatever its layout (interleaved heads through
    // per-head pointer arrays, all heads of a chunk in one GEMM; see attention_gemm.cu).
    cuda::attention::gemm_forward(*this, q, k, v, mask, p, out, lse);
    return;
  }
  check_head_dims(kOp, q, v);
  dispatch_floating(q.dtype(), kOp, [&]<typename T>() {
    forward_kernel<T><<<row_blocks(tq, bh, kOp), kWarps * 32, 0, cuda::stream()>>>(
        operands<T>(q, k, v, mask, p), heads_of<T>(out), static_cast<compute_t<T>*>(lse.data_ptr()));
    CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                     const Tensor& out, const Tensor& lse, const Tensor& gout,
                                     const AttentionParams& p, const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  constexpr const char* kOp = "attention_backward";
  host_checks::check_attention_operands(kOp, q, k, v, mask);
  host_checks::check_attention_rows(kOp, "out", out);
  host_checks::check_attention_rows(kOp, "gout", gout);
  cuda::check_on_device(kOp, {&q, &k, &v, &mask, &out, &lse, &gout, &gq, &gk, &gv});
  const int64_t bh = q.size(0) * q.size(1), tq = q.size(2), tk = k.size(2), d = q.size(3), dv = v.size(3);
  const Shape out_shape{q.size(0), q.size(1), tq, dv};
  check(out.shape() == out_shape && gout.shape() == out_shape && out.dtype() == q.dtype() &&
            gout.dtype() == q.dtype(),
        kOp, ": out ", out.shape(), " and gout ", gout.shape(), " must be ", out_shape, " in q's dtype");
  check(lse.is_contiguous() && lse.numel() == bh * tq &&
            lse.dtype() == (q.dtype() == DType::F64 ? DType::F64 : DType::F32),
        kOp, ": lse must be a contiguous [B,H,Tq] tensor of the compute type, got ", lse.dtype(), " ", lse.shape());
  for (const Tensor* g : {&gq, &gk, &gv}) {
    host_checks::check_attention_rows(kOp, "gradient", *g);
    check(g->dtype() == q.dtype(), kOp, ": gradients must be in q's dtype, got ", g->dtype());
  }
  check(gq.shape() == q.shape() && gk.shape() == k.shape() && gv.shape() == v.shape(), kOp, ": gradients ",
        gq.shape(), ", ", gk.shape(), ", ", gv.shape(), " must be shaped as q, k, v");
  if (bh == 0) return;
  const DType compute = lse.dtype();
  Tensor delta = empty({bh * tq}, {.dtype = compute, .device = q.device()});
  if (tq > 0) {
    dispatch_floating(q.dtype(), kOp, [&]<typename T>() {
      const Heads<const T> o = heads_of<const T>(out), g = heads_of<const T>(gout);
      auto* to = static_cast<compute_t<T>*>(delta.data_ptr());
      const int64_t rows = bh * tq, chunks = dv * static_cast<int64_t>(sizeof(T)) / 16;
      if (chunked_rows(out) && chunked_rows(gout) && chunks > 0) {
        auto launch = [&]<int Lanes>() {
          const int64_t blocks = (rows * Lanes + kDeltaThreads - 1) / kDeltaThreads;
          check(blocks <= std::numeric_limits<int32_t>::max(), kOp, ": too many rows (", rows, ")");
          delta_rows_kernel<T, Lanes><<<static_cast<unsigned>(blocks), kDeltaThreads, 0, cuda::stream()>>>(
              o, g, q.size(1), tq, rows, static_cast<int>(chunks), to);
        };
        if (chunks <= 8) launch.template operator()<8>();
        else if (chunks <= 16) launch.template operator()<16>();
        else launch.template operator()<32>();
      } else {
        delta_kernel<T><<<row_blocks(rows, 1, kOp), kWarps * 32, 0, cuda::stream()>>>(o, g, q.size(1), tq, rows,
                                                                                      static_cast<int>(dv), to);
      }
      CUDA_CHECK_LAUNCH();
    });
  }
  if (tensor_core_path(q, k, v) && aligned_rows(gout) && pair_aligned(gk) && pair_aligned(gv) && pair_aligned(gq)) {
    Tensor dq_accum = empty({bh * tq * d}, {.dtype = DType::F32, .device = q.device()});
    if (dq_accum.numel() > 0)
      CUDA_CHECK(cudaMemsetAsync(dq_accum.data_ptr(), 0, static_cast<size_t>(dq_accum.numel()) * sizeof(float),
                                 cuda::stream()));
    if (tk > 0)
      cuda::attention::flash_backward(
          {heads_of<const bf16>(q), heads_of<const bf16>(k), heads_of<const bf16>(v), heads_of<const bf16>(gout),
           static_cast<const float*>(lse.data_ptr()), static_cast<const float*>(delta.data_ptr()),
           static_cast<float*>(dq_accum.data_ptr()), heads_of<bf16>(gk), heads_of<bf16>(gv),
           cuda::attention::rules_of(q, k, mask, p), static_cast<float>(p.scale), bh},
          static_cast<int>(d));
    if (dq_accum.numel() > 0) {
      const int64_t groups = dq_accum.numel() / 4;  // D is 64 or 128
      const auto* from = static_cast<const float*>(dq_accum.data_ptr());
      const unsigned grid = cuda::grid_for(groups, 256);
      if (dq_accum.numel() <= std::numeric_limits<uint32_t>::max()) {
        dq_finish_kernel<uint32_t><<<grid, 256, 0, cuda::stream()>>>(
            from, heads_of<bf16>(gq), static_cast<uint32_t>(q.size(1)), static_cast<uint32_t>(tq),
            static_cast<uint32_t>(d), static_cast<uint32_t>(groups), static_cast<float>(p.scale));
      } else {
        dq_finish_kernel<int64_t><<<grid, 256, 0, cuda::stream()>>>(from, heads_of<bf16>(gq), q.size(1), tq, d,
                                                                   groups, static_cast<float>(p.scale));
      }
      CUDA_CHECK_LAUNCH();
    }
    return;
  }
  // The GEMM path writes the gradients where they lie, whatever their layout (see
  // attention_gemm.cu); the CUDA-core kernels below write contiguous ones, copied back.
  if (cuda::attention::gemm_path(q, k, v))
    return cuda::attention::gemm_backward(*this, q, k, v, mask, gout, lse, delta, p, gq, gk, gv);
  const Tensor dq = contiguous_scratch(gq), dk = contiguous_scratch(gk), dv_ = contiguous_scratch(gv);
  auto copy_back = [&] {
    for (auto [scratch, grad] : {std::pair{&dq, &gq}, std::pair{&dk, &gk}, std::pair{&dv_, &gv}})
      if (!scratch->is_same(*grad)) copy(*scratch, *grad);
  };
  check_head_dims(kOp, q, v);
  dispatch_floating(q.dtype(), kOp, [&]<typename T>() {
    const Operands<T> a = operands<T>(q, k, v, mask, p);
    const RowGrads<T> g{heads_of<const T>(gout), static_cast<const compute_t<T>*>(lse.data_ptr()),
                        static_cast<const compute_t<T>*>(delta.data_ptr())};
    if (tq > 0) {
      backward_dq_kernel<T><<<row_blocks(tq, bh, kOp), kWarps * 32, 0, cuda::stream()>>>(
          a, g, static_cast<T*>(dq.data_ptr()));
      CUDA_CHECK_LAUNCH();
    }
    if (tk > 0) {
      backward_dkv_kernel<T><<<row_blocks(tk, bh, kOp), kWarps * 32, 0, cuda::stream()>>>(
          a, g, static_cast<T*>(dk.data_ptr()), static_cast<T*>(dv_.data_ptr()));
      CUDA_CHECK_LAUNCH();
    }
  });
  copy_back();
}

}  // namespace ember
