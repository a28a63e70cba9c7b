#pragma once
// Shared by the attention kernels (attention.cu, attention_fwd.cu, attention_bwd.cu, *_sm90a.cu): the
// problem as the kernels see it (strided [B,H,T,C] operands, which scores are visible, which
// survive dropout), and the PTX wrappers of the bf16 tensor-core path.
#include <cuda_bf16.h>

#include <cstdint>

#include "backends/backend.h"
#include "backends/cuda/dtype.cuh"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace ember::cuda::attention {

// One [B,H,T,C] operand: rows `st` apart, unit stride along C.
template <typename T>
struct Heads {
  T* data;
  int64_t sb, sh, st;
  __device__ T* row(int64_t b, int64_t h, int64_t t) const { return data + b * sb + h * sh + t * st; }
};

template <typename T>
Heads<T> heads_of(const Tensor& t) {
  return {static_cast<T*>(t.data_ptr()), t.stride(0), t.stride(1), t.stride(2)};
}

// The max and the sum of v over a full warp, in every lane (the row kernels' reductions).
template <typename C>
__device__ __forceinline__ C warp_max(C v) {
  for (int o = 16; o > 0; o /= 2) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
template <typename C>
__device__ __forceinline__ C warp_sum(C v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Kept out of line: inlined into the tensor-core kernels' unrolled tile loops they would
// multiply the code and the registers of the paths that need neither.
__device__ __noinline__ inline bool mask_at(const bool* mask, int64_t offset) { return mask[offset]; }
__device__ __noinline__ inline bool dropout_keeps(uint64_t seed, uint64_t offset, uint64_t e, float drop_p) {
  return philox_uniform(seed, offset, e) > drop_p;
}

// Which scores a query sees and which survive dropout, exactly as the CPU backend decides.
struct Rules {
  const bool* mask = nullptr;  // [B,H,Tq,Tk] view, stride 0 where broadcast; null = none
  int64_t mb = 0, mh = 0, mi = 0, mj = 0;
  int64_t heads = 1, tq = 0, tk = 0;
  bool causal = false, dropout = false;
  float drop_p = 0;   // compared with Philox's float uniforms, as the CPU does
  double keep = 1;    // 1 / (1 - p), converted to the compute type by each kernel
  uint64_t seed = 0, offset = 0;

  // Score (bh, i, j) enters the softmax: inside the problem, not after the query under causal,
  // and kept by the mask.
  __device__ bool visible(int64_t bh, int64_t i, int64_t j) const {
    if (i >= tq || j >= tk || (causal && j > i)) return false;
    if (mask == nullptr) return true;
    return mask_at(mask, bh / heads * mb + bh % heads * mh + i * mi + j * mj);
  }
  // Element ((bh Tq + i) Tk + j) of the Philox stream survives dropout.
  __device__ bool kept(int64_t bh, int64_t i, int64_t j) const {
    return dropout_keeps(seed, offset, static_cast<uint64_t>((bh * tq + i) * tk + j), drop_p);
  }
};

Rules rules_of(const Tensor& q, const Tensor& k, const Tensor& mask, const Backend::AttentionParams& p);

// The bf16 tensor-core kernels (attention_fwd.cu, attention_bwd.cu), for D = Dv = 64 or 128 and
// 16-byte aligned rows. lse and delta are f32 [BH, Tq]; dq_accum is f32 [BH, Tq, D], zeroed.
struct FlashForward {
  Heads<const bf16> q, k, v;
  Heads<bf16> out;
  float* lse;
  Rules rules;
  float scale;
  int64_t bh;
};
struct FlashBackward {
  Heads<const bf16> q, k, v, gout;
  const float* lse;
  const float* delta;
  float* dq_accum;  // contiguous [BH, Tq, D]
  Heads<bf16> gk, gv;
  Rules rules;
  float scale;
  int64_t bh;
};
void flash_forward(const FlashForward& a, int d);
// The forward on Hopper's warpgroup products (attention_fwd_sm90a.cu): D = 64, no mask or
// dropout, a device of compute capability 9.0. Shapes: gG kN = G warpgroups of 64 query rows
// per block, N keys per tile, two blocks per multiprocessor (b1: one).
enum class WgmmaForward { g2k128, g2k128b1, g3k128, g2k64 };
void flash_forward_wgmma(const FlashForward& a, WgmmaForward shape);
// The backward on Hopper's warpgroup products (attention_bwd_sm90a.cu), on the same terms, with
// blocks of `groups` (1 or 2) warpgroups of 64 keys.
void flash_backward_wgmma(const FlashBackward& a, int groups);
void flash_backward(const FlashBackward& a, int d);

// ---- tensor-core building blocks (sm_80+) ----
// Fragments follow PTX's mma.m16n8k16 layouts: with g = lane / 4 and t = lane % 4, an A
// fragment holds (row g | g+8, cols 2t, 2t+1 | 2t+8, 2t+9) in 4 registers, a B fragment
// (k 2t, 2t+1 | 2t+8, 2t+9; n g) in 2, an f32 C fragment (row g | g+8; cols 2t, 2t+1) in 4.

__device__ __forceinline__ uint32_t smem_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_address(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_address(p)));
}

// The same, from a shared-memory address (a tile's base plus a constant offset, which ptxas
// folds into the instruction instead of keeping one address register per fragment).
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

// c += a b for a 16x16 bf16 A, a 16x8 bf16 B (b0, b1) and a 16x8 f32 C.
__device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats as a bf16 pair, lo in the low half (the lower column of a fragment).
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

// The A fragment of columns [16 kk, 16 kk + 16) of a 16-row f32 C tile held as 8-column
// fragments c[]: FlashAttention-2's reuse of a product's result as the next product's operand.
__device__ __forceinline__ void a_from_c(uint32_t (&a)[4], const float (&c0)[4], const float (&c1)[4]) {
  a[0] = pack_bf16(c0[0], c0[1]);
  a[1] = pack_bf16(c0[2], c0[3]);
  a[2] = pack_bf16(c1[0], c1[1]);
  a[3] = pack_bf16(c1[2], c1[3]);
}

// 16 bytes global -> shared without passing through registers; zero-filled when !valid (src
// must still be a valid address).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_address(dst)), "l"(src),
               "r"(valid ? 16 : 0));
}
// 4 bytes global -> shared, zero-filled when !valid (src must still be a valid address).
__device__ __forceinline__ void cp_async4(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smem_address(dst)), "l"(src),
               "r"(valid ? 4 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

// Rows [row0, row0 + Rows) of operand `src` (head b, h; rows >= limit zero-filled) into a shared
// tile of Rows rows of D bf16, `stride` elements apart, by the block's `threads` threads: each
// thread copies the same 16-byte column of rows r, r + Threads / (D / 8), ... Only the pointer
// to this thread's first element of the head stays in registers between tiles; the operand
// (a kernel parameter) is read again for its row stride and data pointer.
template <int Rows, int D, int Threads>
struct TileLoader {
  static constexpr int kChunks = D / 8;  // 16-byte chunks per row
  static constexpr int kRowsPerRound = Threads / kChunks;
  static_assert(Threads % kChunks == 0 && Rows % kRowsPerRound == 0, "whole rounds of 16-byte copies");
  const bf16* base;  // row `first` of the head, this thread's column

  __device__ static int first() { return static_cast<int>(threadIdx.x) / kChunks; }
  __device__ TileLoader(const Heads<const bf16>& src, int64_t b, int64_t h)
      : base(src.data + b * src.sb + h * src.sh + first() * src.st + static_cast<int>(threadIdx.x) % kChunks * 8) {}
  // dst: the tile's shared base; stride: its row pitch in elements.
  __device__ __forceinline__ void load(__nv_bfloat16* dst, int stride, const Heads<const bf16>& src, int64_t row0,
                                       int64_t limit) const {
    const int64_t left = limit - row0 - first();  // rows of this thread's column still inside
    const bf16* from = base + row0 * src.st;
    __nv_bfloat16* to = dst + first() * stride + (static_cast<int>(threadIdx.x) % kChunks) * 8;
#pragma unroll
    for (int round = 0; round < Rows / kRowsPerRound; ++round) {
      const bool valid = round * kRowsPerRound < left;
      // Rows past `limit` copy nothing from a valid address (the operand's first element).
      cp_async16(to + round * kRowsPerRound * stride, valid ? from + round * kRowsPerRound * src.st : src.data, valid);
    }
  }
};

// The backward kernels' lse and delta of query rows [i0, i0 + Rows) into shared memory, raw:
// thread `row` < Rows copies row i0 + row, `offset` = bh Tq + row. Rows past Tq read 0, harmless
// since their Q and dO rows are 0 too (every term they add is 0).
template <int Rows>
__device__ __forceinline__ void load_row_stats(float* lse_dst, float* delta_dst, const FlashBackward& a,
                                               int64_t offset, int row, int tq, int i0) {
  if (row < Rows) {
    const bool in = i0 + row < tq;
    cp_async4(lse_dst + row, in ? a.lse + offset + i0 : a.lse, in);
    cp_async4(delta_dst + row, in ? a.delta + offset + i0 : a.delta, in);
  }
}

// sm_90's bulk reduction: the copy engine adds `bytes` (a multiple of 16) of f32 from shared
// memory into global memory, both 16-byte aligned. Each thread waits only for the groups it
// committed itself; the writing threads fence their shared stores into the async proxy first.
__device__ __forceinline__ void fence_proxy_async_shared() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
__device__ __forceinline__ void bulk_reduce_add(float* global, const float* shared, uint32_t bytes) {
  asm volatile("cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 [%0], [%1], %2;\n" ::"l"(global),
               "r"(smem_address(shared)), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void bulk_commit() { asm volatile("cp.async.bulk.commit_group;\n" ::: "memory"); }
// The committed reductions have read their shared source (it may be overwritten) ...
__device__ __forceinline__ void bulk_wait_read() { asm volatile("cp.async.bulk.wait_group.read 0;\n" ::: "memory"); }
// ... and have completed.
__device__ __forceinline__ void bulk_wait_all() { asm volatile("cp.async.bulk.wait_group 0;\n" ::: "memory"); }

// 2^x in one MUFU.EX2 (flush-to-zero: results below 2^-126 become 0, as probabilities that small
// do not register next to the row's largest, which is 1). exp2(-inf) = 0.
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Reductions over the 4 threads of a quad (the threads sharing a fragment row).
__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

}  // namespace ember::cuda::attention
