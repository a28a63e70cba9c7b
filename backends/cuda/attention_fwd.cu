// The bf16 flash-attention forward on tensor cores (FlashAttention-2's schedule), for
// D = Dv = 64 or 128, in several tile shapes chosen at run time (EMBER_ATTN_FWD, below).
//
// A block of W warps owns R = 16 W M query rows of one head, M m16 row tiles (16 rows) per warp,
// and walks the keys N at a time. Its Q tile is loaded once into shared memory and, where the
// registers allow (M D <= 128), kept in registers as mma A fragments; K and V tiles are
// double-buffered in shared memory (cp.async fetches tile n + 1 while tile n is used). Per key
// tile each warp computes its 16 M x N scores S = Q K^T with mma.m16n8k16 (B fragments by
// ldmatrix from K's rows, each used for the warp's M row tiles), hides invisible scores (only on
// tiles that can hold any: the causal diagonal, the ragged last tile, a mask), folds them into
// its rows' running max and sum in the log2 domain (p = exp2(s scale log2(e) - m), one FFMA and
// one MUFU.EX2 per score, the max kept as scale log2(e) max s), applies dropout, and adds P V
// with P's accumulator fragments repacked as bf16 A fragments (no trip through shared memory)
// and V's B fragments by ldmatrix.trans. A negative scale is taken as |scale| on -Q (negating
// bf16 is exact), so the running max is always of the scaled scores.
//
// Under causal the key loop stops at the block's last row, blocks are launched heaviest first,
// and a warp skips (products, exponentials, P V) the key tiles wholly past its last row. Shared
// rows are padded by 16 bytes so that ldmatrix's 8 row addresses fall in distinct banks. Masks
// and dropout run in a second instance of the kernel (Extras), so that the common one carries
// neither their out-of-line calls nor their registers.
//
// Shapes (EMBER_ATTN_FWD = R x N, with W warps of M row tiles; read once per process; unset or
// empty: the default, wg2 at D = 64 on Hopper, else 128x64w4; an unknown name throws):
//   64x64      W = 4, M = 1   the original shape
//   128x64     W = 8, M = 1   K/V tiles shared by twice the rows: half the K/V traffic
//   128x128    W = 8, M = 1   and half the tile steps (barriers, rescales) per key
//   128x64w4   W = 4, M = 2   also each K/V fragment feeds two row tiles: half the ldmatrix per
//                             mma. Fastest on an H200 at D = 64 and 128 (causal, T = 1k..16k:
//                             +8..20% over 128x64, 2 blocks of 4 warps per multiprocessor)
//   wg2, wg2b1, wg3, wg2k64    Hopper's warpgroup products (attention_fwd_sm90a.cu) at D = 64
//                             without masks or dropout: 2 (3) warpgroups of 64 rows, 128 keys
//                             (k64: 64) per tile, 2 blocks per multiprocessor (b1, wg3: 1).
//                             Elsewhere (D = 128, masks, dropout, another chip) 128x64w4 runs.
//                             wg2 is the fastest at T = 16k on an H200 (6.17 ms forward +
//                             backward against 6.45 for 128x64w4; wg2k64 6.24, wg3 6.31,
//                             wg2b1 6.51); at 4k wg2k64 leads wg2 by 1% (1.73 / 1.74 ms).
// Shared memory: (R + 4 N) (D + 8) bf16, opted in once per kernel with cudaFuncSetAttribute.
#include <cfloat>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>

#include "backends/cuda/attention_common.cuh"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"

namespace ember::cuda::attention {
namespace {

template <int D, int Warps, int MT, int Keys>
struct ForwardShape {
  static constexpr int kThreads = Warps * 32;
  static constexpr int kRows = Warps * 16 * MT;  // query rows per block
  static constexpr int kStride = D + 8;          // padded row, bf16 elements
  static constexpr int kKeyTile = Keys * kStride;
  static constexpr bool kQInRegs = MT * D <= 128;  // else Q's A fragments come from shared memory
  static constexpr size_t kSmem = static_cast<size_t>(kRows + 4 * Keys) * kStride * sizeof(__nv_bfloat16);
  static_assert(kSmem <= 227 * 1024, "over sm_90's shared memory per block");
  // Blocks per multiprocessor the registers are capped for (65536 / (threads x blocks) each):
  // 8 warps with 64-key tiles at D = 64 fit in 128 registers, 2 blocks; 4 warps of one row tile
  // at D = 64 in 168, 3 blocks; the rest take what they need (up to 255). The kernel for masks
  // and dropout (Extras) is left uncapped: it calls out of line, and spills would be its cost.
  static constexpr int kMinBlocks = Warps == 8 ? (D == 64 && Keys == 64 ? 2 : 1) : MT == 1 && D == 64 ? 3 : 2;
};

// Extras: the problem has a mask or dropout (out-of-line checks per score); without, only the
// causal diagonal and the ragged edge hide scores, decided inline.
template <int D, int Warps, int MT, int Keys, bool Extras>
__global__ void __launch_bounds__(Warps * 32, Extras ? 1 : ForwardShape<D, Warps, MT, Keys>::kMinBlocks)
    flash_forward_kernel(FlashForward a, int64_t q_tiles) {
  using S = ForwardShape<D, Warps, MT, Keys>;
  constexpr int kThreads = S::kThreads, kRows = S::kRows, kStride = S::kStride;
  constexpr int kChunks = Keys / 16;  // 16-key chunks per key tile
  extern __shared__ __align__(16) unsigned char smem[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(smem);
  __nv_bfloat16* k_s = q_s + kRows * kStride;   // two buffers
  __nv_bfloat16* v_s = k_s + 2 * S::kKeyTile;   // two buffers

  const Rules& r = a.rules;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4, t = lane % 4;
  // Blocks run rank-major over heads; under causal rank 0 is the last (heaviest) query tile.
  const int64_t bh = blockIdx.x % a.bh, rank = blockIdx.x / a.bh;
  const int64_t b = bh / r.heads, h = bh % r.heads;
  const int64_t i0 = (r.causal ? q_tiles - 1 - rank : rank) * kRows;
  const int64_t key_end = r.causal ? min(r.tk, i0 + kRows) : r.tk;
  const int64_t key_tiles = (key_end + Keys - 1) / Keys;

  const TileLoader<Keys, D, kThreads> k_loader(a.k, b, h), v_loader(a.v, b, h);
  TileLoader<kRows, D, kThreads>(a.q, b, h).load(q_s, kStride, a.q, i0, r.tq);
  if (key_tiles > 0) {
    k_loader.load(k_s, kStride, a.k, 0, r.tk);
    v_loader.load(v_s, kStride, a.v, 0, r.tk);
  }
  cp_async_commit();
  cp_async_wait_all();
  __syncthreads();
  if (a.scale < 0) {  // scores of -Q with |scale|: the same products, exactly
    for (int c = static_cast<int>(threadIdx.x); c < kRows * D / 2; c += kThreads) {
      uint32_t* pair = reinterpret_cast<uint32_t*>(q_s + c / (D / 2) * kStride) + c % (D / 2);
      *pair ^= 0x80008000u;
    }
    __syncthreads();
  }

  // This warp's rows: [warp_row0, warp_row0 + 16 MT); row tile mt, this thread: + 16 mt + g (+ 8).
  const int q_row = warp * 16 * MT;
  const int64_t warp_row0 = i0 + q_row, warp_last = warp_row0 + 16 * MT - 1;
  uint32_t qf[S::kQInRegs ? MT : 1][S::kQInRegs ? D / 16 : 1][4];
  // Per-thread ldmatrix addresses (bytes): A fragments of Q; B fragments of K (rows = keys);
  // B fragments of V, transposed (rows = keys). Fragment offsets within a tile are constants.
  constexpr uint32_t kRowBytes = kStride * sizeof(__nv_bfloat16);
  const uint32_t q_addr = smem_address(q_s) + (q_row + (lane & 15)) * kRowBytes + (lane >> 4) * 16;
  const uint32_t k_addr = smem_address(k_s) + ((lane & 7) + (lane >> 4) * 8) * kRowBytes + ((lane >> 3) & 1) * 16;
  const uint32_t v_addr = smem_address(v_s) + (lane & 15) * kRowBytes + (lane >> 4) * 16;
  if constexpr (S::kQInRegs) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) ldmatrix_x4(qf[mt][kk], q_addr + mt * 16 * kRowBytes + kk * 32);
  }

  float acc[MT][D / 8][4] = {};
  float row_max[MT][2], row_sum[MT][2];  // row_max: of scale log2(e) s; row_sum: this thread's share
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int half = 0; half < 2; ++half) row_max[mt][half] = -INFINITY, row_sum[mt][half] = 0;
  // |scale| log2(e), kept positive so that max s * it is the max of the scaled scores and a
  // hidden -inf stays -inf (a zero scale gives the same probabilities, all equal).
  const float scale_log2 = fmaxf(fabsf(a.scale) * kLog2e, FLT_MIN);
  const float keep = static_cast<float>(r.keep);

  for (int64_t n = 0; n < key_tiles; ++n) {
    if (n + 1 < key_tiles) {
      const int buf = static_cast<int>((n + 1) & 1);
      k_loader.load(k_s + buf * S::kKeyTile, kStride, a.k, (n + 1) * Keys, r.tk);
      v_loader.load(v_s + buf * S::kKeyTile, kStride, a.v, (n + 1) * Keys, r.tk);
    }
    cp_async_commit();
    const uint32_t buf_bytes = static_cast<uint32_t>(n & 1) * (S::kKeyTile * sizeof(__nv_bfloat16));
    const uint32_t ks = k_addr + buf_bytes, vs = v_addr + buf_bytes;
    const int64_t j0 = n * Keys;
    // Under causal a tile wholly past this warp's last row hides all its scores: the warp skips
    // it (its rows' max, sum and output stay as they are).
    if (!r.causal || j0 <= warp_last) {
      float s[MT][Keys / 8][4] = {};
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t qa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          if constexpr (S::kQInRegs) {
#pragma unroll
            for (int x = 0; x < 4; ++x) qa[mt][x] = qf[mt][kk][x];
          } else {
            ldmatrix_x4(qa[mt], q_addr + mt * 16 * kRowBytes + kk * 32);
          }
        }
#pragma unroll
        for (int np = 0; np < kChunks; ++np) {
          uint32_t kb[4];
          ldmatrix_x4(kb, ks + np * 16 * kRowBytes + kk * 32);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma(s[mt][2 * np], qa[mt], kb[0], kb[1]);
            mma(s[mt][2 * np + 1], qa[mt], kb[2], kb[3]);
          }
        }
      }

      // Hidden scores to -inf (their p is then 0), on the tiles that can hold any.
      if (Extras && r.mask != nullptr) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int nt = 0; nt < Keys / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const int64_t i = warp_row0 + mt * 16 + g + (e >> 1) * 8, j = j0 + nt * 8 + 2 * t + (e & 1);
              if (!r.visible(bh, i, j)) s[mt][nt][e] = -INFINITY;
            }
      } else if (j0 + Keys > r.tk || (r.causal && j0 + Keys - 1 > warp_row0)) {
        // In tile coordinates: key jj is hidden past Tk (jj >= key_limit) and, under causal,
        // from row ii when jj - ii > diagonal.
        const int key_limit = static_cast<int>(min(r.tk - j0, static_cast<int64_t>(Keys)));
        const int64_t offset = warp_row0 - j0;
        const int diagonal = !r.causal || offset >= Keys ? Keys : static_cast<int>(max(offset, int64_t{-16 * MT}));
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int nt = 0; nt < Keys / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const int ii = mt * 16 + g + (e >> 1) * 8, jj = nt * 8 + 2 * t + (e & 1);
              if (jj >= key_limit || jj - ii > diagonal) s[mt][nt][e] = -INFINITY;
            }
      }

      // Online softmax per row (e >> 1 picks the row's half).
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          float m = -INFINITY;
#pragma unroll
          for (int nt = 0; nt < Keys / 8; ++nt) m = fmaxf(m, fmaxf(s[mt][nt][2 * half], s[mt][nt][2 * half + 1]));
          const float m_new = fmaxf(row_max[mt][half], quad_max(m) * scale_log2);
          const float m_use = m_new == -INFINITY ? 0.f : m_new;  // no key seen yet: all p are 0
          const float correction = fast_exp2(row_max[mt][half] - m_use);
          row_max[mt][half] = m_new;
          float sum = 0;
#pragma unroll
          for (int nt = 0; nt < Keys / 8; ++nt) {
            s[mt][nt][2 * half] = fast_exp2(fmaf(s[mt][nt][2 * half], scale_log2, -m_use));
            s[mt][nt][2 * half + 1] = fast_exp2(fmaf(s[mt][nt][2 * half + 1], scale_log2, -m_use));
            sum += s[mt][nt][2 * half] + s[mt][nt][2 * half + 1];
          }
          row_sum[mt][half] = row_sum[mt][half] * correction + sum;
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt) {
            acc[mt][dt][2 * half] *= correction;
            acc[mt][dt][2 * half + 1] *= correction;
          }
        }
      }
      if (Extras && r.dropout) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int nt = 0; nt < Keys / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const int64_t i = warp_row0 + mt * 16 + g + (e >> 1) * 8, j = j0 + nt * 8 + 2 * t + (e & 1);
              if (i < r.tq && j < r.tk) s[mt][nt][e] *= r.kept(bh, i, j) ? keep : 0.f;
            }
      }

      // acc += P V: P's fragments for keys [16 kk, 16 kk + 16) as A, V's rows as B (transposed).
#pragma unroll
      for (int kk = 0; kk < kChunks; ++kk) {
        uint32_t pa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) a_from_c(pa[mt], s[mt][2 * kk], s[mt][2 * kk + 1]);
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          uint32_t vb[4];
          ldmatrix_x4_trans(vb, vs + kk * 16 * kRowBytes + dp * 32);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma(acc[mt][2 * dp], pa[mt], vb[0], vb[1]);
            mma(acc[mt][2 * dp + 1], pa[mt], vb[2], vb[3]);
          }
        }
      }
    }
    cp_async_wait_all();
    __syncthreads();  // tile n + 1 visible to all; everyone done with tile n's buffer
  }

#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int64_t i = warp_row0 + mt * 16 + g + half * 8;
      const float l = quad_sum(row_sum[mt][half]);
      if (i >= r.tq) continue;
      // A row that saw no key gets 0 and lse = -inf.
      const float inv = l > 0 ? 1.f / l : 0.f;
      __nv_bfloat16* o = reinterpret_cast<__nv_bfloat16*>(a.out.row(b, h, i));
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
        *reinterpret_cast<__nv_bfloat162*>(o + dt * 8 + 2 * t) =
            __floats2bfloat162_rn(acc[mt][dt][2 * half] * inv, acc[mt][dt][2 * half + 1] * inv);
      if (t == 0) a.lse[bh * r.tq + i] = l > 0 ? (row_max[mt][half] + log2f(l)) * kLn2 : -INFINITY;
    }
  }
}

template <int D, int Warps, int MT, int Keys>
void launch_forward(const FlashForward& a) {
  using S = ForwardShape<D, Warps, MT, Keys>;
  // The shared-memory opt-in, once per kernel (the backend drives one device).
  static const bool opted_in = [] {
    for (auto kernel : {flash_forward_kernel<D, Warps, MT, Keys, false>, flash_forward_kernel<D, Warps, MT, Keys, true>})
      CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(S::kSmem)));
    return true;
  }();
  (void)opted_in;
  const int64_t q_tiles = (a.rules.tq + S::kRows - 1) / S::kRows;
  const int64_t blocks = q_tiles * a.bh;
  check(blocks <= std::numeric_limits<int32_t>::max(), "attention: too many query tiles (", blocks, ")");
  const auto kernel = a.rules.mask != nullptr || a.rules.dropout ? flash_forward_kernel<D, Warps, MT, Keys, true>
                                                                 : flash_forward_kernel<D, Warps, MT, Keys, false>;
  kernel<<<static_cast<unsigned>(blocks), S::kThreads, S::kSmem, stream()>>>(a, q_tiles);
  CUDA_CHECK_LAUNCH();
}

// The wgmma forward where it runs (Hopper, no mask or dropout), else the mma.sync default.
template <WgmmaForward Shape>
void launch_wgmma(const FlashForward& a) {
  if (a.rules.mask != nullptr || a.rules.dropout || compute_capability() != 90) return launch_forward<64, 4, 2, 64>(a);
  flash_forward_wgmma(a, Shape);
}

struct ForwardConfig {
  const char* name;
  void (*d64)(const FlashForward&);
  void (*d128)(const FlashForward&);
};
constexpr ForwardConfig kForwardConfigs[] = {
    {"64x64", launch_forward<64, 4, 1, 64>, launch_forward<128, 4, 1, 64>},
    {"128x64", launch_forward<64, 8, 1, 64>, launch_forward<128, 8, 1, 64>},
    {"128x128", launch_forward<64, 8, 1, 128>, launch_forward<128, 8, 1, 128>},
    {"128x64w4", launch_forward<64, 4, 2, 64>, launch_forward<128, 4, 2, 64>},
    // wgmma at D = 64 (D = 128 runs 128x64w4)
    {"wg2", launch_wgmma<WgmmaForward::g2k128>, launch_forward<128, 4, 2, 64>},
    {"wg2b1", launch_wgmma<WgmmaForward::g2k128b1>, launch_forward<128, 4, 2, 64>},
    {"wg3", launch_wgmma<WgmmaForward::g3k128>, launch_forward<128, 4, 2, 64>},
    {"wg2k64", launch_wgmma<WgmmaForward::g2k64>, launch_forward<128, 4, 2, 64>},
};
constexpr int kDefault64 = 4, kDefault128 = 3;  // wg2 at D = 64, 128x64w4 at D = 128

// EMBER_ATTN_FWD, read once: the index of its shape, or -1 when unset or empty.
int forward_choice() {
  static const int choice = [] {
    const char* e = std::getenv("EMBER_ATTN_FWD");
    if (e == nullptr || *e == '\0') return -1;
    for (int c = 0; c < static_cast<int>(std::size(kForwardConfigs)); ++c)
      if (std::strcmp(e, kForwardConfigs[c].name) == 0) return c;
    fail("EMBER_ATTN_FWD: unknown shape '", e, "' (64x64, 128x64, 128x128, 128x64w4, wg2, wg2b1, wg3 or wg2k64)");
  }();
  return choice;
}

}  // namespace

void flash_forward(const FlashForward& a, int d) {
  if (d != 64 && d != 128) fail("attention: the tensor-core path takes head dims 64 and 128, got ", d);
  const int chosen = forward_choice();
  const ForwardConfig& c = kForwardConfigs[chosen >= 0 ? chosen : d == 64 ? kDefault64 : kDefault128];
  (d == 64 ? c.d64 : c.d128)(a);
}

}  // namespace ember::cuda::attention
