// The bf16 flash-attention forward on Hopper's warpgroup tensor cores (wgmma, sm_90a), for
// D = Dv = 64 without masks or dropout: FlashAttention-2's schedule with FlashAttention-3's
// products. This file compiles for sm_90a alone (CMakeLists.txt); attention_fwd.cu sends work
// here only on a device of compute capability 9.0.
//
// A block of G warpgroups (4 warps each) owns 64 G query rows of one head and walks the keys N
// at a time. Q, K and V tiles sit in shared memory in the 128-byte swizzle (wgmma.cuh: one 64-wide
// bf16 row is one 128-byte swizzle row), filled by cp.async, K and V double-buffered (tile n + 1
// is fetched while tile n is used). Per key tile each warpgroup computes its 64 x N scores
// S = Q K^T with D / 16 wgmma (A and B from shared memory, both K-major), hides invisible scores
// (the causal diagonal, the ragged last tile), folds them into its rows' running max and sum in
// the log2 domain as the mma.sync kernel does (attention_fwd.cu), and adds P V with P's
// accumulators repacked as bf16 A operands in registers and V read MN-major (its rows are keys,
// the product's K dimension) from shared memory. With two blocks of two warpgroups per
// multiprocessor, one warpgroup's exponentials can overlap another's products.
//
// Under causal the key loop stops at the block's last row, blocks are launched heaviest first,
// and a warpgroup skips the key tiles wholly past its last row. A negative scale is taken as
// |scale| on -Q, as in attention_fwd.cu.
#include <cfloat>
#include <limits>

#include "backends/cuda/attention_sm90a.cuh"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"

namespace ember::cuda::attention {
namespace {

template <int Groups, int Keys>
struct WgmmaShape {
  static constexpr int kThreads = Groups * 128;
  static constexpr int kRows = Groups * 64;  // query rows per block
  static constexpr uint32_t kQBytes = kRows * kRowBytes;
  static constexpr uint32_t kKeyBytes = Keys * kRowBytes;
  // Q, two K and two V buffers, and the slack to align them to 1024 bytes.
  static constexpr size_t kSmem = kQBytes + 4 * kKeyBytes + 1024;
  static_assert(kSmem <= 227 * 1024, "over sm_90's shared memory per block");
};

template <int Keys>
__device__ __forceinline__ void scores(float (&s)[Keys / 8][4], uint64_t a, uint64_t b, int accumulate) {
  if constexpr (Keys == 128)
    wgmma_m64n128k16_ss(s, a, b, accumulate);
  else
    wgmma_m64n64k16_ss(s, a, b, accumulate);
}

template <int Groups, int Keys, int MinBlocks>
__global__ void __launch_bounds__(Groups * 128, MinBlocks) flash_forward_wgmma_kernel(FlashForward a, int64_t q_tiles) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using S = WgmmaShape<Groups, Keys>;
  constexpr int kThreads = S::kThreads, kRows = S::kRows;
  extern __shared__ unsigned char smem[];
  const uint32_t raw = smem_address(smem), base = (raw + 1023) & ~1023u;
  const uint32_t q_s = base, k_s = base + S::kQBytes, v_s = k_s + 2 * S::kKeyBytes;  // K, V: two buffers each

  const Rules& r = a.rules;
  const int group = static_cast<int>(threadIdx.x) / 128, warp = static_cast<int>(threadIdx.x) % 128 / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32, g = lane / 4, t = lane % 4;
  // Blocks run rank-major over heads; under causal rank 0 is the last (heaviest) query tile.
  const int64_t bh = blockIdx.x % a.bh, rank = blockIdx.x / a.bh;
  const int64_t b = bh / r.heads, h = bh % r.heads;
  const int64_t i0 = (r.causal ? q_tiles - 1 - rank : rank) * kRows;
  const int64_t key_end = r.causal ? min(r.tk, i0 + kRows) : r.tk;
  const int64_t key_tiles = (key_end + Keys - 1) / Keys;

  const SwizzledLoader<Keys, kThreads> k_loader(a.k, b, h), v_loader(a.v, b, h);
  SwizzledLoader<kRows, kThreads>(a.q, b, h).load(q_s, a.q, i0, r.tq);
  if (key_tiles > 0) {
    k_loader.load(k_s, a.k, 0, r.tk);
    v_loader.load(v_s, a.v, 0, r.tk);
  }
  cp_async_commit();
  cp_async_wait_all();
  if (a.scale < 0) {  // scores of -Q with |scale|: the same products, exactly
    __syncthreads();
    uint32_t* q = reinterpret_cast<uint32_t*>(smem + (base - raw));
    for (int c = static_cast<int>(threadIdx.x); c < kRows * kD / 2; c += kThreads) q[c] ^= 0x80008000u;
  }
  fence_proxy_async_shared();  // the tiles, visible to the tensor cores
  __syncthreads();

  // This warpgroup's rows: [group_row0, group_row0 + 64); this warp's: [warp_row0, + 16).
  const int64_t group_row0 = i0 + 64 * group, group_last = group_row0 + 63;
  const int64_t warp_row0 = group_row0 + 16 * warp;
  const uint32_t q_group = q_s + group * 64 * kRowBytes;

  float acc[kD / 8][4] = {};
  float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0, 0};  // row_max: of scale log2(e) s
  const float scale_log2 = fmaxf(fabsf(a.scale) * kLog2e, FLT_MIN);

  for (int64_t n = 0; n < key_tiles; ++n) {
    if (n + 1 < key_tiles) {
      const uint32_t buf = static_cast<uint32_t>((n + 1) & 1) * S::kKeyBytes;
      k_loader.load(k_s + buf, a.k, (n + 1) * Keys, r.tk);
      v_loader.load(v_s + buf, a.v, (n + 1) * Keys, r.tk);
    }
    cp_async_commit();
    const uint32_t buf = static_cast<uint32_t>(n & 1) * S::kKeyBytes;
    const int64_t j0 = n * Keys;
    // Under causal a tile wholly past this warpgroup's last row hides all its scores.
    if (!r.causal || j0 <= group_last) {
      // S = Q K^T: 16 columns of D per product, a 32-byte step inside the swizzled rows.
      float s[Keys / 8][4];  // written by the first product (accumulate = 0)
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < kD / 16; ++kk)
        scores<Keys>(s, sw128_desc(q_group + kk * 32, 16), sw128_desc(k_s + buf + kk * 32, 16), kk > 0);
      wgmma_commit();
      wgmma_wait<0>();
      fence_registers(s);

      // Hidden scores to -inf, on the tiles that can hold any. In tile coordinates key jj is
      // hidden past Tk (jj >= key_limit) and, under causal, from row ii when jj - ii > diagonal.
      if (j0 + Keys > r.tk || (r.causal && j0 + Keys - 1 > warp_row0)) {
        const int key_limit = static_cast<int>(min(r.tk - j0, static_cast<int64_t>(Keys)));
        const int64_t offset = warp_row0 - j0;
        const int diagonal = !r.causal || offset >= Keys ? Keys : static_cast<int>(max(offset, int64_t{-16}));
#pragma unroll
        for (int nt = 0; nt < Keys / 8; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int ii = g + (e >> 1) * 8, jj = nt * 8 + 2 * t + (e & 1);
            if (jj >= key_limit || jj - ii > diagonal) s[nt][e] = -INFINITY;
          }
      }

      // Online softmax per row (e >> 1 picks the row's half), as in attention_fwd.cu.
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        float m = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < Keys / 8; ++nt) m = fmaxf(m, fmaxf(s[nt][2 * half], s[nt][2 * half + 1]));
        const float m_new = fmaxf(row_max[half], quad_max(m) * scale_log2);
        const float m_use = m_new == -INFINITY ? 0.f : m_new;  // no key seen yet: all p are 0
        const float correction = fast_exp2(row_max[half] - m_use);
        row_max[half] = m_new;
        float sum = 0;
#pragma unroll
        for (int nt = 0; nt < Keys / 8; ++nt) {
          s[nt][2 * half] = fast_exp2(fmaf(s[nt][2 * half], scale_log2, -m_use));
          s[nt][2 * half + 1] = fast_exp2(fmaf(s[nt][2 * half + 1], scale_log2, -m_use));
          sum += s[nt][2 * half] + s[nt][2 * half + 1];
        }
        row_sum[half] = row_sum[half] * correction + sum;
#pragma unroll
        for (int dt = 0; dt < kD / 8; ++dt) {
          acc[dt][2 * half] *= correction;
          acc[dt][2 * half + 1] *= correction;
        }
      }

      // acc += P V: P's fragments for keys [16 kk, 16 kk + 16) as A; V's rows kk 16.. as B,
      // 16 rows (2048 bytes, two 8-row groups) per product.
      uint32_t pa[Keys / 16][4];
#pragma unroll
      for (int kk = 0; kk < Keys / 16; ++kk) a_from_c(pa[kk], s[2 * kk], s[2 * kk + 1]);
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < Keys / 16; ++kk)
        wgmma_m64n64k16_rs_tb(acc, pa[kk], sw128_desc(v_s + buf + kk * 16 * kRowBytes, 1024), 1);
      wgmma_commit();
      wgmma_wait<0>();
      fence_registers(acc);
      fence_registers(pa);
    }
    cp_async_wait_all();
    fence_proxy_async_shared();
    __syncthreads();  // tile n + 1 visible to all; everyone done with tile n's buffers
  }

#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int64_t i = warp_row0 + g + half * 8;
    const float l = quad_sum(row_sum[half]);
    if (i >= r.tq) continue;
    // A row that saw no key gets 0 and lse = -inf.
    const float inv = l > 0 ? 1.f / l : 0.f;
    __nv_bfloat16* o = reinterpret_cast<__nv_bfloat16*>(a.out.row(b, h, i));
#pragma unroll
    for (int dt = 0; dt < kD / 8; ++dt)
      *reinterpret_cast<__nv_bfloat162*>(o + dt * 8 + 2 * t) =
          __floats2bfloat162_rn(acc[dt][2 * half] * inv, acc[dt][2 * half + 1] * inv);
    if (t == 0) a.lse[bh * r.tq + i] = l > 0 ? (row_max[half] + log2f(l)) * kLn2 : -INFINITY;
  }
#else
  (void)a, (void)q_tiles;
  __trap();  // built for sm_90a only (CMakeLists.txt)
#endif
}

template <int Groups, int Keys, int MinBlocks>
void launch(const FlashForward& a) {
  using S = WgmmaShape<Groups, Keys>;
  constexpr auto kernel = flash_forward_wgmma_kernel<Groups, Keys, MinBlocks>;
  // The shared-memory opt-in, once per kernel (the backend drives one device).
  static const bool opted_in = [] {
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(S::kSmem)));
    return true;
  }();
  (void)opted_in;
  const int64_t q_tiles = (a.rules.tq + S::kRows - 1) / S::kRows;
  const int64_t blocks = q_tiles * a.bh;
  check(blocks <= std::numeric_limits<int32_t>::max(), "attention: too many query tiles (", blocks, ")");
  kernel<<<static_cast<unsigned>(blocks), S::kThreads, S::kSmem, stream()>>>(a, q_tiles);
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void flash_forward_wgmma(const FlashForward& a, WgmmaForward shape) {
  check(a.rules.mask == nullptr && !a.rules.dropout, "attention: the wgmma forward takes no mask or dropout");
  switch (shape) {
    case WgmmaForward::g2k128: return launch<2, 128, 2>(a);
    case WgmmaForward::g2k128b1: return launch<2, 128, 1>(a);
    case WgmmaForward::g3k128: return launch<3, 128, 1>(a);
    case WgmmaForward::g2k64: return launch<2, 64, 2>(a);
  }
  fail("attention: unknown wgmma forward shape");
}

}  // namespace ember::cuda::attention
