// The bf16 flash-attention backward on tensor cores (FlashAttention-2's schedule), for
// D = Dv = 64 or 128.
//
// A block of 4 warps owns 64 keys of one head, 16 per warp, keeps their K and V tiles in
// shared memory and walks the query tiles (64 rows) that can see them: under causal only the
// tiles from the block's first key on. Q, dO and the rows' lse and delta = rowsum(dO o O)
// (precomputed by attention.cu) are double-buffered with cp.async. Per query tile each warp
// computes, for its 16 keys, the transposed scores S^T = K Q^T and dP^T = V dO^T (16 x 64 each,
// mma.m16n8k16), recomputes P^T = exp2(scale log2(e) S^T - log2(e) lse) (hidden scores 0),
// applies dropout (regenerating the forward's Philox stream), forms dS^T = P^T o (dP^T - delta)
// and accumulates dV += P^T dO and dK += dS^T Q in registers, with P^T and dS^T repacked as A
// fragments. dS^T goes to shared memory as bf16; after a barrier each warp takes 16 of the tile's
// query rows and computes dQ = dS K for them, adding it into an f32 dQ scratch with float2
// atomics (red.global.add.v2.f32).
//
// Why atomics for dQ: the alternative, a second pass over query tiles that recomputes S and dP
// per (query tile, key tile), costs two more of the five tile products; FlashAttention-2 makes
// the same choice. The price is a run-to-run ordering difference in dQ's f32 sums, far below
// bf16's resolution, and one f32 [BH, Tq, D] scratch that a final kernel scales into gq.
//
// Shared memory: K, V, 2 x Q, 2 x dO (64 x (D+8) bf16 each), dS^T 64 x 72 bf16, 2 x 2 x 64 f32:
// 65 KB for D = 64, 113 KB for D = 128 (opted in with cudaFuncSetAttribute).
#include <limits>

#include "backends/cuda/attention_common.cuh"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"

namespace ember::cuda::attention {
namespace {

constexpr int kThreads = 128;  // 4 warps x 16 keys
constexpr int kRows = 64, kKeys = 64;
constexpr int kDsStride = kRows + 8;

template <int D>
struct BackwardShape {
  static constexpr int kStride = D + 8;
  static constexpr int kTile = 64 * kStride;
  static constexpr size_t kSmem =
      (6 * kTile + kKeys * kDsStride) * sizeof(__nv_bfloat16) + 4 * kRows * sizeof(float);
};

// lse (log2 domain) and delta of query rows [i0, i0 + 64) into shared memory; rows past Tq get
// lse = +inf, so their recomputed probabilities are 0 without a test.
__device__ __forceinline__ void load_row_stats(float* lse_s, float* delta_s, const FlashBackward& a, int64_t bh,
                                               int64_t i0) {
  const int r = static_cast<int>(threadIdx.x);
  if (r >= kRows) return;
  const int64_t i = i0 + r;
  const bool in = i < a.rules.tq;
  lse_s[r] = in ? a.lse[bh * a.rules.tq + i] * kLog2e : INFINITY;
  delta_s[r] = in ? a.delta[bh * a.rules.tq + i] : 0.f;
}

template <int D>
__global__ void __launch_bounds__(kThreads) flash_backward_kernel(FlashBackward a) {
  using S = BackwardShape<D>;
  extern __shared__ __align__(16) unsigned char smem[];
  __nv_bfloat16* k_s = reinterpret_cast<__nv_bfloat16*>(smem);
  __nv_bfloat16* v_s = k_s + S::kTile;
  __nv_bfloat16* q_s = v_s + S::kTile;       // two buffers
  __nv_bfloat16* g_s = q_s + 2 * S::kTile;   // two buffers (dO)
  __nv_bfloat16* ds_s = g_s + 2 * S::kTile;  // dS^T [key][query]
  float* lse_s = reinterpret_cast<float*>(ds_s + kKeys * kDsStride);  // two buffers
  float* delta_s = lse_s + 2 * kRows;                                 // two buffers

  const Rules& r = a.rules;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4, t = lane % 4;
  // Blocks run rank-major over heads; key tile 0 sees the most query tiles under causal.
  const int64_t bh = blockIdx.x % a.bh, j0 = blockIdx.x / a.bh * kKeys;
  const int64_t b = bh / r.heads, h = bh % r.heads;
  const int64_t i_start = r.causal ? j0 : 0;  // query i sees key j only when j <= i
  const int64_t q_tiles = i_start < r.tq ? (r.tq - i_start + kRows - 1) / kRows : 0;

  load_tile<D, kThreads>(k_s, S::kStride, a.k, b, h, j0, r.tk);
  load_tile<D, kThreads>(v_s, S::kStride, a.v, b, h, j0, r.tk);
  if (q_tiles > 0) {
    load_tile<D, kThreads>(q_s, S::kStride, a.q, b, h, i_start, r.tq);
    load_tile<D, kThreads>(g_s, S::kStride, a.gout, b, h, i_start, r.tq);
    load_row_stats(lse_s, delta_s, a, bh, i_start);
  }
  cp_async_commit();
  cp_async_wait_all();
  __syncthreads();

  float dk[D / 8][4] = {}, dv[D / 8][4] = {};
  const int key_row = warp * 16;  // this warp's keys in the tile: rows key_row + g, + 8
  const float scale_log2 = a.scale * kLog2e, keep = static_cast<float>(r.keep);

  for (int64_t m = 0; m < q_tiles; ++m) {
    const int64_t i0 = i_start + m * kRows;
    if (m + 1 < q_tiles) {
      const int buf = static_cast<int>((m + 1) & 1);
      load_tile<D, kThreads>(q_s + buf * S::kTile, S::kStride, a.q, b, h, i0 + kRows, r.tq);
      load_tile<D, kThreads>(g_s + buf * S::kTile, S::kStride, a.gout, b, h, i0 + kRows, r.tq);
      load_row_stats(lse_s + buf * kRows, delta_s + buf * kRows, a, bh, i0 + kRows);
    }
    cp_async_commit();
    const int cur = static_cast<int>(m & 1);
    const __nv_bfloat16* qs = q_s + cur * S::kTile;
    const __nv_bfloat16* gs = g_s + cur * S::kTile;
    const float* lse_row = lse_s + cur * kRows;
    const float* delta_row = delta_s + cur * kRows;

    // S^T = K Q^T and dP^T = V dO^T for this warp's 16 keys x the tile's 64 queries.
    float s[8][4] = {}, dp[8][4] = {};
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t ka[4], va[4];
      ldmatrix_x4(ka, k_s + (key_row + (lane & 15)) * S::kStride + kk * 16 + (lane >> 4) * 8);
      ldmatrix_x4(va, v_s + (key_row + (lane & 15)) * S::kStride + kk * 16 + (lane >> 4) * 8);
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        const int offset = (np * 16 + (lane & 7) + (lane >> 4) * 8) * S::kStride + kk * 16 + ((lane >> 3) & 1) * 8;
        uint32_t qb[4], gb[4];
        ldmatrix_x4(qb, qs + offset);
        ldmatrix_x4(gb, gs + offset);
        mma(s[2 * np], ka, qb[0], qb[1]);
        mma(s[2 * np + 1], ka, qb[2], qb[3]);
        mma(dp[2 * np], va, gb[0], gb[1]);
        mma(dp[2 * np + 1], va, gb[2], gb[3]);
      }
    }

    // P^T into s, dS^T into dp. Element (nt, e): key j0 + key_row + g + 8 (e >> 1), query
    // i0 + 8 nt + 2 t + (e & 1).
    const bool check = r.mask != nullptr || j0 + kKeys > r.tk || (r.causal && i0 < j0 + kKeys - 1);
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int col = nt * 8 + 2 * t + (e & 1);
        const int64_t i = i0 + col, j = j0 + key_row + g + (e >> 1) * 8;
        float p = exp2f(s[nt][e] * scale_log2 - lse_row[col]);
        if (check && !r.visible(bh, i, j)) p = 0.f;
        float dpv = dp[nt][e];
        if (r.dropout) {
          const float z = i < r.tq && j < r.tk && r.kept(bh, i, j) ? keep : 0.f;
          dpv *= z;
          dp[nt][e] = p * (dpv - delta_row[col]);
          s[nt][e] = p * z;
        } else {
          dp[nt][e] = p * (dpv - delta_row[col]);
          s[nt][e] = p;
        }
      }
    }

    // dV += P^T dO and dK += dS^T Q: queries are the reduction dim, dO and Q rows the B operand.
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      uint32_t pa[4], dsa[4];
      a_from_c(pa, s[2 * kk], s[2 * kk + 1]);
      a_from_c(dsa, dp[2 * kk], dp[2 * kk + 1]);
#pragma unroll
      for (int dt = 0; dt < D / 16; ++dt) {
        const int offset = (kk * 16 + (lane & 15)) * S::kStride + dt * 16 + (lane >> 4) * 8;
        uint32_t gb[4], qb[4];
        ldmatrix_x4_trans(gb, gs + offset);
        ldmatrix_x4_trans(qb, qs + offset);
        mma(dv[2 * dt], pa, gb[0], gb[1]);
        mma(dv[2 * dt + 1], pa, gb[2], gb[3]);
        mma(dk[2 * dt], dsa, qb[0], qb[1]);
        mma(dk[2 * dt + 1], dsa, qb[2], qb[3]);
      }
    }

    // dS^T to shared memory, then dQ rows [16 warp, 16 warp + 16) of the tile = dS K.
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
      __nv_bfloat16* row = ds_s + (key_row + g) * kDsStride + nt * 8 + 2 * t;
      *reinterpret_cast<uint32_t*>(row) = pack_bf16(dp[nt][0], dp[nt][1]);
      *reinterpret_cast<uint32_t*>(row + 8 * kDsStride) = pack_bf16(dp[nt][2], dp[nt][3]);
    }
    __syncthreads();
    float dq[D / 8][4] = {};
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      uint32_t dsa[4];
      ldmatrix_x4_trans(dsa, ds_s + (kk * 16 + (lane & 7) + (lane >> 4) * 8) * kDsStride + warp * 16 +
                                 ((lane >> 3) & 1) * 8);
#pragma unroll
      for (int dt = 0; dt < D / 16; ++dt) {
        uint32_t kb[4];
        ldmatrix_x4_trans(kb, k_s + (kk * 16 + (lane & 15)) * S::kStride + dt * 16 + (lane >> 4) * 8);
        mma(dq[2 * dt], dsa, kb[0], kb[1]);
        mma(dq[2 * dt + 1], dsa, kb[2], kb[3]);
      }
    }
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int64_t i = i0 + warp * 16 + g + half * 8;
      if (i >= r.tq) continue;
      float* row = a.dq_accum + (bh * r.tq + i) * D + 2 * t;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
        atomicAdd(reinterpret_cast<float2*>(row + dt * 8), make_float2(dq[dt][2 * half], dq[dt][2 * half + 1]));
    }
    cp_async_wait_all();
    __syncthreads();  // next tile visible; ds_s and this tile's buffers free
  }

#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int64_t j = j0 + key_row + g + half * 8;
    if (j >= r.tk) continue;
    __nv_bfloat16* gk = reinterpret_cast<__nv_bfloat16*>(a.gk) + (bh * r.tk + j) * D + 2 * t;
    __nv_bfloat16* gv = reinterpret_cast<__nv_bfloat16*>(a.gv) + (bh * r.tk + j) * D + 2 * t;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      *reinterpret_cast<__nv_bfloat162*>(gk + dt * 8) =
          __floats2bfloat162_rn(dk[dt][2 * half] * a.scale, dk[dt][2 * half + 1] * a.scale);
      *reinterpret_cast<__nv_bfloat162*>(gv + dt * 8) = __floats2bfloat162_rn(dv[dt][2 * half], dv[dt][2 * half + 1]);
    }
  }
}

template <int D>
void launch_backward(const FlashBackward& a) {
  using S = BackwardShape<D>;
  const int64_t blocks = (a.rules.tk + kKeys - 1) / kKeys * a.bh;
  check(blocks <= std::numeric_limits<int32_t>::max(), "attention_backward: too many key tiles (", blocks, ")");
  CUDA_CHECK(cudaFuncSetAttribute(flash_backward_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(S::kSmem)));
  flash_backward_kernel<D><<<static_cast<unsigned>(blocks), kThreads, S::kSmem, stream()>>>(a);
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void flash_backward(const FlashBackward& a, int d) {
  if (d == 64) launch_backward<64>(a);
  else if (d == 128) launch_backward<128>(a);
  else fail("attention_backward: the tensor-core path takes head dims 64 and 128, got ", d);
}

}  // namespace ember::cuda::attention
