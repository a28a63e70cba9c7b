// The bf16 flash-attention backward on Hopper's warpgroup tensor cores (wgmma, sm_90a), for
// D = Dv = 64 without masks or dropout: the schedule of the mma.sync kernel (attention_bwd.cu)
// with all five products as wgmma. This file compiles for sm_90a alone (CMakeLists.txt);
// attention_bwd.cu sends work here only on a device of compute capability 9.0.
//
// A block of G warpgroups (G = 1 or 2) owns 64 G keys of one head, 64 per warpgroup, keeps
// their K and V in shared memory and walks the query tiles (64 rows) that can see them: under
// causal only the tiles from the block's first key on. Q, dO (double-buffered) and K, V sit in
// the 128-byte swizzle (attention_sm90a.cuh), filled by cp.async with the rows' lse and delta.
// Per query tile each warpgroup, for its 64 keys:
//   S^T = K Q^T and dP^T = V dO^T     A and B from shared memory, K-major (64 x 64 each)
//   P^T = exp2(scale log2(e) S^T - log2(e) lse), hidden scores 0; dS^T = P^T o (dP^T - delta)
//   dS^T to shared memory (swizzled)
//   dV += P^T dO and dK += dS^T Q      A = P^T, dS^T repacked in registers; dO and Q read
//                                      MN-major (the queries are the product's K dimension)
// After a barrier each warpgroup computes its share of the tile's dQ = dS K (64 queries x 64 / G
// columns, over the block's keys; A = dS, stored as dS^T, read MN-major; B = K read MN-major
// from column 64 g / G on) and adds it into the f32 dQ scratch by bulk reductions
// (cp.reduce.async.bulk), one per row, as attention_bwd.cu's bulk path does (EMBER_ATTN_DQ does
// not apply here). G = 2: one block per multiprocessor (223 registers a thread), its two
// warpgroups in step; G = 1: two independent blocks per multiprocessor, at twice the dQ
// reductions and Q / dO reads per key. Under causal, blocks are launched heaviest first, a
// warpgroup whose keys all follow the tile's last query skips its products, and dQ stops at the
// last key chunk the tile's rows can see.
#include <limits>

#include "backends/cuda/attention_sm90a.cuh"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"

namespace ember::cuda::attention {
namespace {

// G warpgroups of 64 keys per block, the tile's dQ columns split between them.
template <int G>
struct BackwardShape {
  static constexpr int kThreads = G * 128;
  static constexpr int kKeys = G * 64;           // keys per block
  static constexpr int kRows = 64;               // queries per tile
  static constexpr int kDqCols = kD / G;         // dQ columns per warpgroup
  static constexpr int kDqStride = kDqCols + 8;  // f32 stage rows, padded against bank conflicts
  static constexpr uint32_t kKeyBytes = kKeys * kRowBytes, kTileBytes = kRows * kRowBytes;
  // Shared memory, bytes from a 1024-aligned base: K, V; two Q and two dO tiles; dS^T (keys x 64
  // queries, swizzled); then f32: two lse and two delta rows, each warp's dQ stage (16 rows).
  static constexpr uint32_t kK = 0, kV = kK + kKeyBytes, kQ = kV + kKeyBytes, kG = kQ + 2 * kTileBytes;
  static constexpr uint32_t kDs = kG + 2 * kTileBytes, kLse = kDs + kKeyBytes, kDelta = kLse + 2 * kRows * 4;
  static constexpr uint32_t kStage = kDelta + 2 * kRows * 4;
  static constexpr size_t kSmem = kStage + (kThreads / 32) * 16 * kDqStride * 4 + 1024;
  static_assert(kSmem <= 227 * 1024, "over sm_90's shared memory per block");
  // One block of two warpgroups per multiprocessor (223 registers a thread), or two of one.
  static constexpr int kMinBlocks = G == 1 ? 2 : 1;
};

// The tile's dQ columns of this warpgroup: 64 x kDqCols.
template <int Cols>
__device__ __forceinline__ void dq_product(float (&d)[Cols / 8][4], uint64_t a, uint64_t b, int accumulate) {
  if constexpr (Cols == 64)
    wgmma_m64n64k16_ss<1, 1>(d, a, b, accumulate);
  else
    wgmma_m64n32k16_ss<1, 1>(d, a, b, accumulate);
}

template <int G>
__global__ void __launch_bounds__(G * 128, BackwardShape<G>::kMinBlocks) flash_backward_wgmma_kernel(FlashBackward a) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using S = BackwardShape<G>;
  constexpr int kThreads = S::kThreads, kKeys = S::kKeys, kRows = S::kRows, kDqCols = S::kDqCols;
  constexpr int kDqStride = S::kDqStride;
  constexpr uint32_t kK = S::kK, kV = S::kV, kQ = S::kQ, kG = S::kG, kDs = S::kDs, kLse = S::kLse;
  constexpr uint32_t kDelta = S::kDelta, kStage = S::kStage, kTileBytes = S::kTileBytes;
  extern __shared__ unsigned char smem[];
  const uint32_t raw = smem_address(smem), base = (raw + 1023) & ~1023u;
  unsigned char* shared = smem + (base - raw);  // the same, as a pointer
  const float* lse_s = reinterpret_cast<const float*>(shared + kLse);
  const float* delta_s = reinterpret_cast<const float*>(shared + kDelta);

  const Rules& r = a.rules;
  const int group = static_cast<int>(threadIdx.x) / 128, warp = static_cast<int>(threadIdx.x) % 128 / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32, g = lane / 4, t = lane % 4;
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
    load_row_stats<kRows>(reinterpret_cast<float*>(shared + kLse) + buf * kRows,
                          reinterpret_cast<float*>(shared + kDelta) + buf * kRows, a, stat_offset, stat_row, tq, i0);
  };

  const SwizzledLoader<kRows, kThreads> q_loader(a.q, b, h), g_loader(a.gout, b, h);
  SwizzledLoader<kKeys, kThreads>(a.k, b, h).load(base + kK, a.k, j0, r.tk);
  SwizzledLoader<kKeys, kThreads>(a.v, b, h).load(base + kV, a.v, j0, r.tk);
  if (q_tiles > 0) {
    q_loader.load(base + kQ, a.q, i_start, r.tq);
    g_loader.load(base + kG, a.gout, i_start, r.tq);
    load_stats(0, i_start);
  }
  cp_async_commit();
  cp_async_wait_all();
  fence_proxy_async_shared();  // the tiles, visible to the tensor cores
  __syncthreads();

  // This warpgroup's keys: [group_key0, + 64); this thread's: warp_key0 + g (+ 8).
  const int group_key0 = j0 + 64 * group, warp_key0 = group_key0 + 16 * warp;
  const uint32_t k_group = base + kK + group * 64 * kRowBytes, v_group = base + kV + group * 64 * kRowBytes;
  float dk[kD / 8][4] = {}, dv[kD / 8][4] = {};
  const float scale_log2 = a.scale * kLog2e;
  float* stage = reinterpret_cast<float*>(shared + kStage) + (static_cast<int>(threadIdx.x) / 32) * 16 * kDqStride;

  for (int m = 0; m < q_tiles; ++m) {
    const int i0 = i_start + m * kRows;
    if (m + 1 < q_tiles) {
      const int buf = (m + 1) & 1;
      q_loader.load(base + kQ + buf * kTileBytes, a.q, i0 + kRows, r.tq);
      g_loader.load(base + kG + buf * kTileBytes, a.gout, i0 + kRows, r.tq);
      load_stats(buf, i0 + kRows);
    }
    cp_async_commit();
    const int cur = m & 1;
    const uint32_t qs = base + kQ + cur * kTileBytes, gs = base + kG + cur * kTileBytes;
    const float* lse_row = lse_s + cur * kRows;
    const float* delta_row = delta_s + cur * kRows;

    // Under causal, a warpgroup whose keys all follow the tile's last query sees nothing here.
    const bool active = !r.causal || group_key0 <= i0 + kRows - 1;
    if (active) {
      float s[kRows / 8][4], dp[kRows / 8][4];  // written by the first products (accumulate = 0)
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < kD / 16; ++kk)
        wgmma_m64n64k16_ss(s, sw128_desc(k_group + kk * 32, 16), sw128_desc(qs + kk * 32, 16), kk > 0);
#pragma unroll
      for (int kk = 0; kk < kD / 16; ++kk)
        wgmma_m64n64k16_ss(dp, sw128_desc(v_group + kk * 32, 16), sw128_desc(gs + kk * 32, 16), kk > 0);
      wgmma_commit();
      wgmma_wait<0>();
      fence_registers(s);
      fence_registers(dp);

      // P^T into s, dS^T into dp. Element (nt, e): key warp_key0 + g + 8 (e >> 1), query
      // i0 + 8 nt + 2 t + (e & 1). Only warps whose keys reach past Tk, or past the tile's first
      // query under causal, test scores one by one.
      const bool edge = warp_key0 + 15 >= tk || (r.causal && warp_key0 + 15 > i0);
#pragma unroll
      for (int nt = 0; nt < kRows / 8; ++nt) {
        const int col = nt * 8 + 2 * t;
        const float2 lse2 = *reinterpret_cast<const float2*>(lse_row + col);
        const float2 delta2 = *reinterpret_cast<const float2*>(delta_row + col);
        const float lse_log2[2] = {lse2.x * kLog2e, lse2.y * kLog2e}, delta[2] = {delta2.x, delta2.y};
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int key = warp_key0 + g + (e >> 1) * 8, query = i0 + col + (e & 1);
          float p = fast_exp2(fmaf(s[nt][e], scale_log2, -lse_log2[e & 1]));
          if (edge && (key >= tk || (r.causal && key > query))) p = 0.f;
          dp[nt][e] = p * (dp[nt][e] - delta[e & 1]);
          s[nt][e] = p;
        }
      }

      // dV += P^T dO and dK += dS^T Q: 16 queries per product, rows kq 16.. of dO and Q.
      uint32_t pa[kRows / 16][4], dsa[kRows / 16][4];
#pragma unroll
      for (int kq = 0; kq < kRows / 16; ++kq) {
        a_from_c(pa[kq], s[2 * kq], s[2 * kq + 1]);
        a_from_c(dsa[kq], dp[2 * kq], dp[2 * kq + 1]);
      }
      // dS^T to shared memory first (the A registers of a product in flight may not be read):
      // row = key (block coordinates), 64 queries of bf16 in 8 chunks of 16 bytes, chunk c
      // stored at c ^ (row % 8) = c ^ g.
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const uint32_t row = (group * 64 + warp * 16 + g + half * 8) * kRowBytes;
#pragma unroll
        for (int nt = 0; nt < kRows / 8; ++nt)
          *reinterpret_cast<uint32_t*>(shared + kDs + row + ((nt ^ g) * 16) + 4 * t) = dsa[nt / 2][(nt & 1) * 2 + half];
      }
      fence_proxy_async_shared();
      fence_registers(dv);
      fence_registers(dk);
      fence_registers(pa);
      fence_registers(dsa);
      wgmma_fence();
#pragma unroll
      for (int kq = 0; kq < kRows / 16; ++kq)
        wgmma_m64n64k16_rs_tb(dv, pa[kq], sw128_desc(gs + kq * 16 * kRowBytes, 1024), 1);
#pragma unroll
      for (int kq = 0; kq < kRows / 16; ++kq)
        wgmma_m64n64k16_rs_tb(dk, dsa[kq], sw128_desc(qs + kq * 16 * kRowBytes, 1024), 1);
      wgmma_commit();
      wgmma_wait<0>();
      fence_registers(dv);
      fence_registers(dk);
      fence_registers(pa);
      fence_registers(dsa);
    }
    __syncthreads();  // dS^T of both warpgroups written

    // dQ for the tile's 64 rows, columns [kDqCols group, + kDqCols) = dS K over the key chunks
    // the rows can see (under causal, those up to the tile's last query). The first warpgroup's
    // 4 chunks are always among them (under causal i0 >= j0, so reach >= 63): only the later
    // ones branch, and the first product (accumulate = 0) always runs.
    const int reach = i0 + kRows - 1 - j0;  // the tile's last query, in block keys
    const int last = !r.causal ? kKeys / 16 - 1 : min(reach / 16, kKeys / 16 - 1);
    {
      float dq[kDqCols / 8][4];
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk)
        if (kk < 4 || kk <= last)
          dq_product<kDqCols>(dq, sw128_desc(base + kDs + kk * 16 * kRowBytes, 1024),
                              sw128_desc(base + kK + kk * 16 * kRowBytes + group * kDqCols * 2, 1024), kk > 0);
      wgmma_commit();
      wgmma_wait<0>();
      fence_registers(dq);

      // This warp's 16 rows (i0 + 16 warp ..) into its stage, then one bulk reduction per row.
      bulk_wait_read();  // the previous tile's reductions have read the stage
      __syncwarp();
#pragma unroll
      for (int dt = 0; dt < kDqCols / 8; ++dt) {
        *reinterpret_cast<float2*>(stage + g * kDqStride + dt * 8 + 2 * t) = make_float2(dq[dt][0], dq[dt][1]);
        *reinterpret_cast<float2*>(stage + (g + 8) * kDqStride + dt * 8 + 2 * t) = make_float2(dq[dt][2], dq[dt][3]);
      }
      fence_proxy_async_shared();  // the stores, visible to the bulk copy engine
      __syncwarp();
      const int i = i0 + warp * 16 + lane;
      if (lane < 16 && i < tq)
        bulk_reduce_add(a.dq_accum + (bh * r.tq + i) * kD + group * kDqCols, stage + lane * kDqStride,
                        kDqCols * sizeof(float));
      bulk_commit();
    }
    cp_async_wait_all();
    fence_proxy_async_shared();
    __syncthreads();  // next tile visible; dS^T and this tile's buffers free
  }

#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int j = warp_key0 + g + half * 8;
    if (j >= tk) continue;
    __nv_bfloat16* gk = reinterpret_cast<__nv_bfloat16*>(a.gk.row(b, h, j)) + 2 * t;
    __nv_bfloat16* gv = reinterpret_cast<__nv_bfloat16*>(a.gv.row(b, h, j)) + 2 * t;
#pragma unroll
    for (int dt = 0; dt < kD / 8; ++dt) {
      *reinterpret_cast<__nv_bfloat162*>(gk + dt * 8) =
          __floats2bfloat162_rn(dk[dt][2 * half] * a.scale, dk[dt][2 * half + 1] * a.scale);
      *reinterpret_cast<__nv_bfloat162*>(gv + dt * 8) = __floats2bfloat162_rn(dv[dt][2 * half], dv[dt][2 * half + 1]);
    }
  }
  bulk_wait_all();  // the stages stay valid until their reductions complete
#else
  (void)a;
  __trap();  // built for sm_90a only (CMakeLists.txt)
#endif
}

template <int G>
void launch(const FlashBackward& a) {
  using S = BackwardShape<G>;
  // The shared-memory opt-in, once per kernel (the backend drives one device).
  static const bool opted_in = [] {
    CUDA_CHECK(cudaFuncSetAttribute(flash_backward_wgmma_kernel<G>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    static_cast<int>(S::kSmem)));
    return true;
  }();
  (void)opted_in;
  const int64_t blocks = (a.rules.tk + S::kKeys - 1) / S::kKeys * a.bh;
  check(blocks <= std::numeric_limits<int32_t>::max(), "attention_backward: too many key tiles (", blocks, ")");
  flash_backward_wgmma_kernel<G><<<static_cast<unsigned>(blocks), S::kThreads, S::kSmem, stream()>>>(a);
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void flash_backward_wgmma(const FlashBackward& a, int groups) {
  check(a.rules.mask == nullptr && !a.rules.dropout, "attention_backward: the wgmma kernel takes no mask or dropout");
  if (groups == 1) return launch<1>(a);
  check(groups == 2, "attention_backward: the wgmma kernel takes 1 or 2 warpgroups, got ", groups);
  launch<2>(a);
}

}  // namespace ember::cuda::attention
