// The bf16 flash-attention backward on tensor cores (FlashAttention-2's schedule), for
// D = Dv = 64 or 128, in several tile shapes chosen at run time (EMBER_ATTN_BWD, below).
//
// A block of W warps owns 16 M W keys of one head, M m16 key tiles (16 keys) per warp, keeps
// their K and V tiles in shared memory and walks the query tiles (64 rows) that can see them:
// under causal only the tiles from the block's first key on. Q, dO and the rows' lse and
// delta = rowsum(dO o O) (precomputed by attention.cu) are double-buffered with cp.async. Per
// query tile each warp takes the tile's queries C at a time (C = 16, 32 or 64: fewer registers
// live against more steps) and computes, for its keys, the transposed scores S^T = K Q^T and
// dP^T = V dO^T (16 M x C each, mma.m16n8k16; each Q and dO fragment serves the M key tiles),
// recomputes P^T = exp2(scale log2(e) S^T - log2(e) lse) (one FFMA and one MUFU.EX2 per score;
// hidden scores 0), applies dropout (regenerating the forward's Philox stream), forms
// dS^T = P^T o (dP^T - delta) and accumulates dV += P^T dO and dK += dS^T Q in registers, with
// P^T and dS^T repacked as A fragments. dS^T goes to shared memory as bf16; after a barrier the
// warps split the tile's dQ = dS K (16 query rows and D / (W / 4) columns each) and add it into
// an f32 dQ scratch: staged in shared memory and added by sm_90's bulk reductions
// (cp.reduce.async.bulk, one per row, issued by the warp's first 16 lanes), or, with
// EMBER_ATTN_DQ=atomic and in the masks-and-dropout kernel, with float2 atomics
// (red.global.add.v2.f32) straight from the fragments.
//
// Under causal, blocks are launched heaviest first (key tile 0 sees every query tile), and on
// the diagonal a warp skips the query steps that precede all its keys (every score hidden):
// their products, exponentials and dV / dK terms, and in dQ the key chunks past the rows.
// Only the tiles that can hold a hidden score (the diagonal, the ragged edges, a mask) test
// scores one by one. Shared rows are padded by 16 bytes so that ldmatrix's 8 row addresses
// (and the dS^T stores of a warp) fall in distinct banks. Masks and dropout run in a second
// instance of the kernel (Extras), so that the common one carries neither their out-of-line
// calls nor their registers.
//
// Why atomics for dQ: the alternative, a second pass over query tiles that recomputes S and dP
// per (query tile, key tile), costs two more of the five tile products; FlashAttention-2 makes
// the same choice. The price is a run-to-run ordering difference in dQ's f32 sums, far below
// bf16's resolution, and one f32 [BH, Tq, D] scratch that a final kernel scales into gq. With
// 128 keys per block the atomics per product are half those of 64.
//
// Shapes (EMBER_ATTN_BWD = keys per block, with W warps of M key tiles stepping C queries; read
// once per process; unset or empty: the default, 128m2; an unknown name throws):
//   64      W = 4, M = 1, C = 64   the original shape
//   128     W = 8, M = 1, C = 32   half the dQ atomics and Q / dO traffic per product; two
//                                  blocks per multiprocessor at D = 64 (128 registers, spilling
//                                  a little), one at D = 128
//   128w    W = 8, M = 1, C = 64   whole tiles per step, K / V fragments kept in registers at
//                                  D = 64; one block per multiprocessor
//   128m2   W = 4, M = 2, C = 32   each Q / dO fragment feeds two key tiles: a third less
//                                  ldmatrix per product; two blocks of 4 warps per
//                                  multiprocessor. D = 64 only (dK and dV of 32 keys at
//                                  D = 128 would not fit in registers): D = 128 runs 128.
//                                  With the bulk dQ, the fastest on an H200 (causal, B H = 16
//                                  or 64: T = 4k 1.77 ms, 16k 6.46 ms, against 1.83 / 6.61 for
//                                  128m2s and 2.09 / 7.64 for 128), spilling ~50 bytes
//   128m2s  W = 4, M = 2, C = 16   the same in steps of 16 queries: no spill at D = 64; the
//                                  default before the bulk dQ (D = 128 runs 128)
//   wg      all five products on Hopper's wgmma (attention_bwd_sm90a.cu), 128 keys in two
//           warpgroups, one block per multiprocessor; D = 64 without masks or dropout on
//           compute capability 9.0 (else 128m2; D = 128 runs 128)
//   wg1     the same with 64 keys in one warpgroup, two blocks per multiprocessor
//   Both wgmma kernels are correct but slower than 128m2 on an H200 (causal, T = 4k / 16k:
//   wg 1.81 / 6.56 ms, wg1 1.79 / 6.41, 128m2 1.70 / 6.11 in one run): their products,
//   exponentials and dQ run one after another, and FlashAttention-3's remedies (a producer
//   warp, warpgroups in ping-pong, more registers for the consumers) are not written.
// Shared memory: K, V (16 M W x (D+8)), 2 x Q, 2 x dO (64 x (D+8)), dS^T (16 M W x 72), all
// bf16, 2 x 2 x 64 f32, and for the bulk dQ W x 16 x (D / (W / 4) + 8) f32; opted in once per
// kernel with cudaFuncSetAttribute.
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>

#include "backends/cuda/attention_common.cuh"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"

namespace ember::cuda::attention {
namespace {

template <int D, int Warps, int MT, int QC>
struct BackwardShape {
  static constexpr int kThreads = Warps * 32;
  static constexpr int kKeys = 16 * MT * Warps;  // keys per block, 16 MT per warp
  static constexpr int kRows = 64;               // queries per tile
  static constexpr int kStride = D + 8;
  static constexpr int kTile = kRows * kStride;
  static constexpr int kKeyTile = kKeys * kStride;
  static constexpr int kDsStride = kRows + 8;
  static constexpr int kDqCols = D / (Warps / 4);  // dQ columns per warp
  // The bulk dQ path stages each warp's 16 x kDqCols f32 dQ in shared memory, rows padded by 32
  // bytes so that the fragments' float2 stores of a half-warp fall in distinct banks.
  static constexpr int kDqStride = kDqCols + 8;
  static constexpr size_t kDqStage = static_cast<size_t>(Warps) * 16 * kDqStride * sizeof(float);
  // K and V's A fragments stay in registers where they fit beside the accumulators.
  static constexpr bool kKVInRegs = D == 64 && QC == 64 && MT == 1;
  static constexpr size_t kSmem = (2 * kKeyTile + 4 * kTile + kKeys * kDsStride) * sizeof(__nv_bfloat16) +
                                  4 * kRows * sizeof(float);
  static_assert(kSmem + kDqStage <= 227 * 1024, "over sm_90's shared memory per block");
  // Blocks per multiprocessor the registers are capped for (65536 / (threads x blocks) each): 8
  // warps stepping 32 queries at D = 64 get 128 registers (2 blocks, a few spilled); otherwise 8
  // warps take up to 255 (1 block), 4 warps up to 255 (2 blocks). The kernel for masks and
  // dropout (Extras) is left uncapped.
  static constexpr int kMinBlocks = Warps == 8 ? (D == 64 && QC == 32 ? 2 : 1) : 2;
  static_assert(Warps == 4 || Warps == 8, "dQ splits its columns over Warps / 4 warps");
  static_assert(kRows % QC == 0, "whole query steps per tile");
};

template <int D, int Warps, int MT, int QC, bool Extras, bool Bulk>
__global__ void __launch_bounds__(Warps * 32, Extras ? 1 : BackwardShape<D, Warps, MT, QC>::kMinBlocks)
    flash_backward_kernel(FlashBackward a) {
  using S = BackwardShape<D, Warps, MT, QC>;
  constexpr int kThreads = S::kThreads, kKeys = S::kKeys, kRows = S::kRows, kStride = S::kStride;
  constexpr uint32_t kRowBytes = kStride * sizeof(__nv_bfloat16);
  constexpr uint32_t kDsRowBytes = S::kDsStride * sizeof(__nv_bfloat16);
  constexpr uint32_t kTileBytes = S::kTile * sizeof(__nv_bfloat16);
  extern __shared__ __align__(16) unsigned char smem[];
  __nv_bfloat16* k_s = reinterpret_cast<__nv_bfloat16*>(smem);
  __nv_bfloat16* v_s = k_s + S::kKeyTile;
  __nv_bfloat16* q_s = v_s + S::kKeyTile;     // two buffers
  __nv_bfloat16* g_s = q_s + 2 * S::kTile;    // two buffers (dO)
  __nv_bfloat16* ds_s = g_s + 2 * S::kTile;   // dS^T [key][query]
  float* lse_s = reinterpret_cast<float*>(ds_s + kKeys * S::kDsStride);  // two buffers
  float* delta_s = lse_s + 2 * kRows;                                    // two buffers
  float* dq_s = delta_s + 2 * kRows;  // Bulk: each warp's dQ stage (16 x kDqStride f32)

  const Rules& r = a.rules;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4, t = lane % 4;
  // Row positions within a head are ints (a head of 2^31 rows would not fit in memory).
  const int tq = static_cast<int>(r.tq), tk = static_cast<int>(r.tk);
  // Blocks run rank-major over heads; key tile 0 sees the most query tiles under causal.
  const int64_t bh = blockIdx.x % a.bh;
  const int j0 = static_cast<int>(blockIdx.x / a.bh) * kKeys;
  const int64_t b = bh / r.heads, h = bh % r.heads;
  const int i_start = r.causal ? j0 : 0;  // query i sees key j only when j <= i
  const int q_tiles = i_start < tq ? (tq - i_start + kRows - 1) / kRows : 0;

  const int stat_row = static_cast<int>(threadIdx.x);  // the row of lse and delta it loads
  const int64_t stat_offset = bh * r.tq + stat_row;
  auto load_stats = [&](int buf, int i0) {
    load_row_stats<kRows>(lse_s + buf * kRows, delta_s + buf * kRows, a, stat_offset, stat_row, tq, i0);
  };

  const TileLoader<kRows, D, kThreads> q_loader(a.q, b, h), g_loader(a.gout, b, h);
  TileLoader<kKeys, D, kThreads>(a.k, b, h).load(k_s, kStride, a.k, j0, r.tk);
  TileLoader<kKeys, D, kThreads>(a.v, b, h).load(v_s, kStride, a.v, j0, r.tk);
  if (q_tiles > 0) {
    q_loader.load(q_s, kStride, a.q, i_start, r.tq);
    g_loader.load(g_s, kStride, a.gout, i_start, r.tq);
    load_stats(0, i_start);
  }
  cp_async_commit();
  cp_async_wait_all();
  __syncthreads();

  const int key_row = warp * 16 * MT;  // this warp's keys in the block: key_row + 16 mt + g (+ 8)
  const int warp_key0 = j0 + key_row;
  // Per-thread ldmatrix addresses (bytes); fragment offsets within a tile are constants.
  const uint32_t ka_addr = smem_address(k_s) + (key_row + (lane & 15)) * kRowBytes + (lane >> 4) * 16;
  const uint32_t va_addr = smem_address(v_s) + (key_row + (lane & 15)) * kRowBytes + (lane >> 4) * 16;
  // B fragments with queries as n (S^T, dP^T) and with queries as k (dK, dV; transposed).
  const uint32_t qn_off = ((lane & 7) + (lane >> 4) * 8) * kRowBytes + ((lane >> 3) & 1) * 16;
  const uint32_t qk_off = (lane & 15) * kRowBytes + (lane >> 4) * 16;
  const uint32_t q_base = smem_address(q_s), g_base = smem_address(g_s);
  // dQ: this warp's 16 rows and kDqCols columns.
  const int dq_row = (warp % 4) * 16, dq_col = (warp / 4) * S::kDqCols;
  const uint32_t dsa_addr =
      smem_address(ds_s) + ((lane & 7) + (lane >> 4) * 8) * kDsRowBytes + (dq_row + ((lane >> 3) & 1) * 8) * 2;
  const uint32_t kt_addr = smem_address(k_s) + (lane & 15) * kRowBytes + (dq_col + (lane >> 4) * 8) * 2;

  uint32_t kf[S::kKVInRegs ? D / 16 : 1][4], vf[S::kKVInRegs ? D / 16 : 1][4];  // MT = 1 only
  if constexpr (S::kKVInRegs) {
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      ldmatrix_x4(kf[kk], ka_addr + kk * 32);
      ldmatrix_x4(vf[kk], va_addr + kk * 32);
    }
  }

  float dk[MT][D / 8][4] = {}, dv[MT][D / 8][4] = {};
  const float scale_log2 = a.scale * kLog2e, keep = static_cast<float>(r.keep);
  // Keys at or past key_limit (block coordinates) are past Tk.
  const int key_limit = min(tk - j0, kKeys);

  for (int m = 0; m < q_tiles; ++m) {
    const int i0 = i_start + m * kRows;
    if (m + 1 < q_tiles) {
      const int buf = static_cast<int>((m + 1) & 1);
      q_loader.load(q_s + buf * S::kTile, kStride, a.q, i0 + kRows, r.tq);
      g_loader.load(g_s + buf * S::kTile, kStride, a.gout, i0 + kRows, r.tq);
      load_stats(buf, i0 + kRows);
    }
    cp_async_commit();
    const int cur = static_cast<int>(m & 1);
    const uint32_t qs = q_base + cur * kTileBytes, gs = g_base + cur * kTileBytes;
    const float* lse_row = lse_s + cur * kRows;
    const float* delta_row = delta_s + cur * kRows;

    // Under causal, the tile's 16-query chunks before `first` precede all this warp's keys.
    const int lead = warp_key0 - i0;
    const int first = !r.causal || lead <= 0 ? 0 : lead >= kRows ? kRows / 16 : lead / 16;
    // In tile coordinates, key jj (of the warp's 16 MT) is hidden from query ii when jj - ii > diagonal.
    const int diagonal = !r.causal || lead <= -16 * MT ? kRows : -lead;
    const bool edge = key_row + 16 * MT > key_limit || (r.causal && lead > -16 * MT);

#pragma unroll
    for (int step = 0; step < kRows / QC; ++step) {
      if ((step + 1) * QC <= first * 16) continue;  // every score of the step hidden
      constexpr int kN = QC / 8;                   // n8 tiles of queries in the step
      const int q0 = step * QC;                    // the step's first query in the tile
      // S^T = K Q^T and dP^T = V dO^T for this warp's 16 MT keys x the step's QC queries; each
      // Q and dO fragment serves the warp's MT key tiles.
      float s[MT][kN][4] = {}, dp[MT][kN][4] = {};
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t ka[MT][4], va[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          if constexpr (S::kKVInRegs) {
#pragma unroll
            for (int x = 0; x < 4; ++x) ka[mt][x] = kf[kk][x], va[mt][x] = vf[kk][x];
          } else {
            ldmatrix_x4(ka[mt], ka_addr + mt * 16 * kRowBytes + kk * 32);
            ldmatrix_x4(va[mt], va_addr + mt * 16 * kRowBytes + kk * 32);
          }
        }
#pragma unroll
        for (int np = 0; np < QC / 16; ++np) {
          const uint32_t offset = qn_off + (q0 + np * 16) * kRowBytes + kk * 32;
          uint32_t qb[4], gb[4];
          ldmatrix_x4(qb, qs + offset);
          ldmatrix_x4(gb, gs + offset);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma(s[mt][2 * np], ka[mt], qb[0], qb[1]);
            mma(s[mt][2 * np + 1], ka[mt], qb[2], qb[3]);
            mma(dp[mt][2 * np], va[mt], gb[0], gb[1]);
            mma(dp[mt][2 * np + 1], va[mt], gb[2], gb[3]);
          }
        }
      }

      // P^T into s, dS^T into dp. Element (mt, nt, e): key warp_key0 + 16 mt + g + 8 (e >> 1),
      // query i0 + q0 + 8 nt + 2 t + (e & 1).
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int nt = 0; nt < kN; ++nt) {
        const int col = q0 + nt * 8 + 2 * t;
        const float2 lse2 = *reinterpret_cast<const float2*>(lse_row + col);
        const float2 delta2 = *reinterpret_cast<const float2*>(delta_row + col);
        const float lse_log2[2] = {lse2.x * kLog2e, lse2.y * kLog2e}, delta[2] = {delta2.x, delta2.y};
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int ii = col + (e & 1), jj = mt * 16 + g + (e >> 1) * 8;
          float p = fast_exp2(fmaf(s[mt][nt][e], scale_log2, -lse_log2[e & 1]));
          if (Extras && r.mask != nullptr) {
            if (!r.visible(bh, i0 + ii, warp_key0 + jj)) p = 0.f;
          } else if (edge && (key_row + jj >= key_limit || jj - ii > diagonal)) {
            p = 0.f;
          }
          float dpv = dp[mt][nt][e];
          if (Extras && r.dropout) {
            const int i = i0 + ii, j = warp_key0 + jj;
            const float z = i < tq && j < tk && r.kept(bh, i, j) ? keep : 0.f;
            dpv *= z;
            dp[mt][nt][e] = p * (dpv - delta[e & 1]);
            s[mt][nt][e] = p * z;
          } else {
            dp[mt][nt][e] = p * (dpv - delta[e & 1]);
            s[mt][nt][e] = p;
          }
        }
      }

      // dV += P^T dO and dK += dS^T Q: queries are the reduction dim, dO and Q rows the B operand.
#pragma unroll
      for (int kq = 0; kq < QC / 16; ++kq) {
        uint32_t pa[MT][4], dsa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          a_from_c(pa[mt], s[mt][2 * kq], s[mt][2 * kq + 1]);
          a_from_c(dsa[mt], dp[mt][2 * kq], dp[mt][2 * kq + 1]);
        }
#pragma unroll
        for (int dt = 0; dt < D / 16; ++dt) {
          const uint32_t offset = qk_off + (q0 + kq * 16) * kRowBytes + dt * 32;
          uint32_t gb[4], qb[4];
          ldmatrix_x4_trans(gb, gs + offset);
          ldmatrix_x4_trans(qb, qs + offset);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma(dv[mt][2 * dt], pa[mt], gb[0], gb[1]);
            mma(dv[mt][2 * dt + 1], pa[mt], gb[2], gb[3]);
            mma(dk[mt][2 * dt], dsa[mt], qb[0], qb[1]);
            mma(dk[mt][2 * dt + 1], dsa[mt], qb[2], qb[3]);
          }
        }
      }

      // dS^T to shared memory for dQ.
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < kN; ++nt) {
          __nv_bfloat16* row = ds_s + (key_row + mt * 16 + g) * S::kDsStride + q0 + nt * 8 + 2 * t;
          *reinterpret_cast<uint32_t*>(row) = pack_bf16(dp[mt][nt][0], dp[mt][nt][1]);
          *reinterpret_cast<uint32_t*>(row + 8 * S::kDsStride) = pack_bf16(dp[mt][nt][2], dp[mt][nt][3]);
        }
    }
    __syncthreads();

    // dQ for rows [dq_row, dq_row + 16) of the tile, columns [dq_col, dq_col + kDqCols) = dS K.
    // Under causal the key chunks past the rows' last are hidden (and their dS^T unwritten).
    {
      const int reach = i0 + dq_row + 15 - j0;  // the rows' last query, in block keys
      const int last = !r.causal ? kKeys / 16 - 1 : reach < 0 ? -1 : min(reach / 16, kKeys / 16 - 1);
      if (last >= 0 && i0 + dq_row < tq) {
        float dq[S::kDqCols / 8][4] = {};
#pragma unroll
        for (int kk = 0; kk < kKeys / 16; ++kk) {
          if (kk <= last) {
            uint32_t dsa[4];
            ldmatrix_x4_trans(dsa, dsa_addr + kk * 16 * kDsRowBytes);
#pragma unroll
            for (int dt = 0; dt < S::kDqCols / 16; ++dt) {
              uint32_t kb[4];
              ldmatrix_x4_trans(kb, kt_addr + kk * 16 * kRowBytes + dt * 32);
              mma(dq[2 * dt], dsa, kb[0], kb[1]);
              mma(dq[2 * dt + 1], dsa, kb[2], kb[3]);
            }
          }
        }
        if constexpr (Bulk) {
          // The previous tile's reduction has read the stage (each lane waits for its own).
          bulk_wait_read();
          __syncwarp();
          float* stage = dq_s + warp * 16 * S::kDqStride;
#pragma unroll
          for (int dt = 0; dt < S::kDqCols / 8; ++dt) {
            *reinterpret_cast<float2*>(stage + g * S::kDqStride + dt * 8 + 2 * t) = make_float2(dq[dt][0], dq[dt][1]);
            *reinterpret_cast<float2*>(stage + (g + 8) * S::kDqStride + dt * 8 + 2 * t) =
                make_float2(dq[dt][2], dq[dt][3]);
          }
          fence_proxy_async_shared();  // the stores, visible to the bulk copy engine
          __syncwarp();
          const int i = i0 + dq_row + lane;
          if (lane < 16 && i < tq)
            bulk_reduce_add(a.dq_accum + (bh * r.tq + i) * D + dq_col, stage + lane * S::kDqStride,
                            S::kDqCols * sizeof(float));
          bulk_commit();
        } else {
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            const int i = i0 + dq_row + g + half * 8;
            if (i >= tq) continue;
            float* row = a.dq_accum + (bh * r.tq + i) * D + dq_col + 2 * t;
#pragma unroll
            for (int dt = 0; dt < S::kDqCols / 8; ++dt)
              atomicAdd(reinterpret_cast<float2*>(row + dt * 8), make_float2(dq[dt][2 * half], dq[dt][2 * half + 1]));
          }
        }
      }
    }
    cp_async_wait_all();
    __syncthreads();  // next tile visible; ds_s and this tile's buffers free
  }

#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int j = warp_key0 + mt * 16 + g + half * 8;
      if (j >= tk) continue;
      __nv_bfloat16* gk = reinterpret_cast<__nv_bfloat16*>(a.gk.row(b, h, j)) + 2 * t;
      __nv_bfloat16* gv = reinterpret_cast<__nv_bfloat16*>(a.gv.row(b, h, j)) + 2 * t;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        *reinterpret_cast<__nv_bfloat162*>(gk + dt * 8) =
            __floats2bfloat162_rn(dk[mt][dt][2 * half] * a.scale, dk[mt][dt][2 * half + 1] * a.scale);
        *reinterpret_cast<__nv_bfloat162*>(gv + dt * 8) =
            __floats2bfloat162_rn(dv[mt][dt][2 * half], dv[mt][dt][2 * half + 1]);
      }
    }
  if constexpr (Bulk) bulk_wait_all();  // the stages stay valid until their reductions complete
}

// EMBER_ATTN_DQ, read once: how the backward adds dQ into its f32 scratch. "atomic": float2
// atomics from the fragments (red.global.add.v2.f32); "bulk" (and unset or empty): each warp
// stages its 16 rows in shared memory and one bulk reduction per row adds them
// (cp.reduce.async.bulk, sm_90). The kernels for masks and dropout always use atomics.
bool bulk_dq() {
  static const bool bulk = [] {
    const char* e = std::getenv("EMBER_ATTN_DQ");
    if (e == nullptr || *e == '\0' || std::strcmp(e, "bulk") == 0) return true;
    if (std::strcmp(e, "atomic") == 0) return false;
    fail("EMBER_ATTN_DQ: unknown choice '", e, "' (atomic or bulk)");
  }();
  return bulk;
}

template <int D, int Warps, int MT, int QC>
void launch_backward(const FlashBackward& a) {
  using S = BackwardShape<D, Warps, MT, QC>;
  constexpr auto kAtomic = flash_backward_kernel<D, Warps, MT, QC, false, false>;
  constexpr auto kBulk = flash_backward_kernel<D, Warps, MT, QC, false, true>;
  constexpr auto kExtras = flash_backward_kernel<D, Warps, MT, QC, true, false>;
  // The shared-memory opt-in, once per kernel (the backend drives one device).
  static const bool opted_in = [&] {
    for (auto kernel : {kAtomic, kExtras})
      CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(S::kSmem)));
    CUDA_CHECK(cudaFuncSetAttribute(kBulk, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    static_cast<int>(S::kSmem + S::kDqStage)));
    return true;
  }();
  (void)opted_in;
  const int64_t blocks = (a.rules.tk + S::kKeys - 1) / S::kKeys * a.bh;
  check(blocks <= std::numeric_limits<int32_t>::max(), "attention_backward: too many key tiles (", blocks, ")");
  const bool extras = a.rules.mask != nullptr || a.rules.dropout, bulk = !extras && bulk_dq();
  const auto kernel = extras ? kExtras : bulk ? kBulk : kAtomic;
  kernel<<<static_cast<unsigned>(blocks), S::kThreads, S::kSmem + (bulk ? S::kDqStage : 0), stream()>>>(a);
  CUDA_CHECK_LAUNCH();
}

// The wgmma backward where it runs (Hopper, no mask or dropout), else the mma.sync default.
template <int Groups>
void launch_wgmma(const FlashBackward& a) {
  if (a.rules.mask != nullptr || a.rules.dropout || compute_capability() != 90) return launch_backward<64, 4, 2, 32>(a);
  flash_backward_wgmma(a, Groups);
}

struct BackwardConfig {
  const char* name;
  void (*d64)(const FlashBackward&);
  void (*d128)(const FlashBackward&);
};
constexpr BackwardConfig kBackwardConfigs[] = {
    {"64", launch_backward<64, 4, 1, 64>, launch_backward<128, 4, 1, 64>},
    {"128", launch_backward<64, 8, 1, 32>, launch_backward<128, 8, 1, 32>},
    {"128w", launch_backward<64, 8, 1, 64>, launch_backward<128, 8, 1, 64>},
    {"128m2", launch_backward<64, 4, 2, 32>, launch_backward<128, 8, 1, 32>},
    {"128m2s", launch_backward<64, 4, 2, 16>, launch_backward<128, 8, 1, 32>},
    {"wg", launch_wgmma<2>, launch_backward<128, 8, 1, 32>},
    {"wg1", launch_wgmma<1>, launch_backward<128, 8, 1, 32>},
};
constexpr int kDefault64 = 3, kDefault128 = 3;  // 128m2 (at D = 128: 128)

// EMBER_ATTN_BWD, read once: the index of its shape, or -1 when unset or empty.
int backward_choice() {
  static const int choice = [] {
    const char* e = std::getenv("EMBER_ATTN_BWD");
    if (e == nullptr || *e == '\0') return -1;
    for (int c = 0; c < static_cast<int>(std::size(kBackwardConfigs)); ++c)
      if (std::strcmp(e, kBackwardConfigs[c].name) == 0) return c;
    fail("EMBER_ATTN_BWD: unknown shape '", e, "' (64, 128, 128w, 128m2, 128m2s, wg or wg1)");
  }();
  return choice;
}

}  // namespace

void flash_backward(const FlashBackward& a, int d) {
  if (d != 64 && d != 128) fail("attention_backward: the tensor-core path takes head dims 64 and 128, got ", d);
  const int chosen = backward_choice();
  const BackwardConfig& c = kBackwardConfigs[chosen >= 0 ? chosen : d == 64 ? kDefault64 : kDefault128];
  (d == 64 ? c.d64 : c.d128)(a);
}

}  // namespace ember::cuda::attention
