// The bf16 flash-attention forward on tensor cores (FlashAttention-2's schedule), for
// D = Dv = 64 or 128.
//
// A block of 4 warps owns 64 query rows of one head, 16 per warp, and walks the keys 64 at a
// time. Its Q tile is loaded once into shared memory and kept in registers as mma A fragments;
// K and V tiles are double-buffered in shared memory (cp.async fetches tile n + 1 while tile n is
// used). Per key tile each warp computes its 16 x 64 scores S = Q K^T with mma.m16n8k16 (B
// fragments by ldmatrix from K's rows), hides invisible scores (only on tiles that can hold
// any: the causal diagonal, the ragged last tile, a mask), folds them into its rows' running
// max and sum in the log2 domain (exp2 of scale * log2(e) * s), applies dropout, and adds P V
// with P's accumulator fragments repacked as bf16 A fragments (no trip through shared memory)
// and V's B fragments by ldmatrix.trans. Under causal the key loop stops at the block's last
// row, and blocks are launched heaviest first. Shared rows are padded by 16 bytes so that
// ldmatrix's 8 row addresses fall in distinct banks.
//
// Shared memory: Q 64 x (D+8), K and V 2 x 64 x (D+8) each, bf16: 46 KB for D = 64, 87 KB for
// D = 128 (opted in with cudaFuncSetAttribute).
#include <limits>

#include "backends/cuda/attention_common.cuh"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"

namespace ember::cuda::attention {
namespace {

constexpr int kThreads = 128;  // 4 warps x 16 query rows
constexpr int kRows = 64, kKeys = 64;

template <int D>
struct ForwardShape {
  static constexpr int kStride = D + 8;  // padded row, bf16 elements
  static constexpr int kTile = 64 * kStride;
  static constexpr size_t kSmem = 5 * kTile * sizeof(__nv_bfloat16);  // Q + 2 K + 2 V
};

template <int D>
__global__ void __launch_bounds__(kThreads) flash_forward_kernel(FlashForward a, int64_t q_tiles) {
  using S = ForwardShape<D>;
  extern __shared__ __align__(16) unsigned char smem[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(smem);
  __nv_bfloat16* k_s = q_s + S::kTile;      // two buffers
  __nv_bfloat16* v_s = k_s + 2 * S::kTile;  // two buffers

  const Rules& r = a.rules;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4, t = lane % 4;
  // Blocks run rank-major over heads; under causal rank 0 is the last (heaviest) query tile.
  const int64_t bh = blockIdx.x % a.bh, rank = blockIdx.x / a.bh;
  const int64_t b = bh / r.heads, h = bh % r.heads;
  const int64_t i0 = (r.causal ? q_tiles - 1 - rank : rank) * kRows;
  const int64_t key_end = r.causal ? min(r.tk, i0 + kRows) : r.tk;
  const int64_t key_tiles = (key_end + kKeys - 1) / kKeys;

  load_tile<D, kThreads>(q_s, S::kStride, a.q, b, h, i0, r.tq);
  if (key_tiles > 0) {
    load_tile<D, kThreads>(k_s, S::kStride, a.k, b, h, 0, r.tk);
    load_tile<D, kThreads>(v_s, S::kStride, a.v, b, h, 0, r.tk);
  }
  cp_async_commit();
  cp_async_wait_all();
  __syncthreads();

  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk)
    ldmatrix_x4(qf[kk], q_s + (warp * 16 + (lane & 15)) * S::kStride + kk * 16 + (lane >> 4) * 8);

  float acc[D / 8][4] = {};
  float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0, 0};  // row_sum: this thread's share
  const float scale_log2 = a.scale * kLog2e, keep = static_cast<float>(r.keep);
  const int64_t row_base = i0 + warp * 16 + g;  // this thread's rows: row_base, row_base + 8

  for (int64_t n = 0; n < key_tiles; ++n) {
    if (n + 1 < key_tiles) {
      const int buf = static_cast<int>((n + 1) & 1);
      load_tile<D, kThreads>(k_s + buf * S::kTile, S::kStride, a.k, b, h, (n + 1) * kKeys, r.tk);
      load_tile<D, kThreads>(v_s + buf * S::kTile, S::kStride, a.v, b, h, (n + 1) * kKeys, r.tk);
    }
    cp_async_commit();
    const __nv_bfloat16* ks = k_s + (n & 1) * S::kTile;
    const __nv_bfloat16* vs = v_s + (n & 1) * S::kTile;
    const int64_t j0 = n * kKeys;

    float s[8][4] = {};
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        uint32_t kb[4];
        ldmatrix_x4(kb, ks + (np * 16 + (lane & 7) + (lane >> 4) * 8) * S::kStride + kk * 16 + ((lane >> 3) & 1) * 8);
        mma(s[2 * np], qf[kk], kb[0], kb[1]);
        mma(s[2 * np + 1], qf[kk], kb[2], kb[3]);
      }
    }

    const bool check = r.mask != nullptr || j0 + kKeys > r.tk || (r.causal && j0 + kKeys - 1 > i0);
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] *= scale_log2;
        if (check && !r.visible(bh, row_base + (e >> 1) * 8, j0 + nt * 8 + 2 * t + (e & 1))) s[nt][e] = -INFINITY;
      }
    }

    // Online softmax per row (e >> 1 picks the row); hidden scores are -inf and give p = 0.
    float correction[2];
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      float m = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) m = fmaxf(m, fmaxf(s[nt][2 * half], s[nt][2 * half + 1]));
      const float m_new = fmaxf(row_max[half], quad_max(m));
      const float m_use = m_new == -INFINITY ? 0.f : m_new;  // no key seen yet: all p are 0
      correction[half] = exp2f(row_max[half] - m_use);
      row_max[half] = m_new;
      float sum = 0;
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        s[nt][2 * half] = exp2f(s[nt][2 * half] - m_use);
        s[nt][2 * half + 1] = exp2f(s[nt][2 * half + 1] - m_use);
        sum += s[nt][2 * half] + s[nt][2 * half + 1];
      }
      row_sum[half] = row_sum[half] * correction[half] + sum;
    }
    if (r.dropout) {
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int64_t i = row_base + (e >> 1) * 8, j = j0 + nt * 8 + 2 * t + (e & 1);
          if (i < r.tq && j < r.tk) s[nt][e] *= r.kept(bh, i, j) ? keep : 0.f;
        }
      }
    }
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      acc[dt][0] *= correction[0];
      acc[dt][1] *= correction[0];
      acc[dt][2] *= correction[1];
      acc[dt][3] *= correction[1];
    }

    // acc += P V: P's fragments for keys [16 kk, 16 kk + 16) as A, V's rows as B (transposed).
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      uint32_t pa[4];
      a_from_c(pa, s[2 * kk], s[2 * kk + 1]);
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        uint32_t vb[4];
        ldmatrix_x4_trans(vb, vs + (kk * 16 + (lane & 15)) * S::kStride + dp * 16 + (lane >> 4) * 8);
        mma(acc[2 * dp], pa, vb[0], vb[1]);
        mma(acc[2 * dp + 1], pa, vb[2], vb[3]);
      }
    }
    cp_async_wait_all();
    __syncthreads();  // tile n + 1 visible to all; everyone done with tile n's buffer
  }

#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int64_t i = row_base + half * 8;
    const float l = quad_sum(row_sum[half]);
    if (i >= r.tq) continue;
    // A row that saw no key gets 0 and lse = -inf.
    const float inv = l > 0 ? 1.f / l : 0.f;
    __nv_bfloat16* o = reinterpret_cast<__nv_bfloat16*>(a.out.row(b, h, i));
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
      *reinterpret_cast<__nv_bfloat162*>(o + dt * 8 + 2 * t) =
          __floats2bfloat162_rn(acc[dt][2 * half] * inv, acc[dt][2 * half + 1] * inv);
    if (t == 0) a.lse[bh * r.tq + i] = l > 0 ? (row_max[half] + log2f(l)) * kLn2 : -INFINITY;
  }
}

template <int D>
void launch_forward(const FlashForward& a) {
  using S = ForwardShape<D>;
  const int64_t q_tiles = (a.rules.tq + kRows - 1) / kRows;
  const int64_t blocks = q_tiles * a.bh;
  check(blocks <= std::numeric_limits<int32_t>::max(), "attention: too many query tiles (", blocks, ")");
  CUDA_CHECK(cudaFuncSetAttribute(flash_forward_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(S::kSmem)));
  flash_forward_kernel<D><<<static_cast<unsigned>(blocks), kThreads, S::kSmem, stream()>>>(a, q_tiles);
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void flash_forward(const FlashForward& a, int d) {
  if (d == 64) launch_forward<64>(a);
  else if (d == 128) launch_forward<128>(a);
  else fail("attention: the tensor-core path takes head dims 64 and 128, got ", d);
}

}  // namespace ember::cuda::attention
