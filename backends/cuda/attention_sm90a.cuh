#pragma once
// Shared by the sm_90a attention kernels (attention_fwd_sm90a.cu, attention_bwd_sm90a.cu): tiles
// of [B,H,T,64] bf16 operands in shared memory in wgmma's 128-byte swizzle (wgmma.cuh), loaded by
// cp.async.
#include "backends/cuda/attention_common.cuh"
#include "backends/cuda/wgmma.cuh"

namespace ember::cuda::attention {

constexpr int kD = 64;
constexpr uint32_t kRowBytes = kD * sizeof(__nv_bfloat16);  // one swizzled row
static_assert(kRowBytes == 128, "one row per 128-byte swizzle row");

// 16 bytes global -> shared address `dst`; zero-filled when !valid (src must still be valid).
__device__ __forceinline__ void cp_async16_to(uint32_t dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}

// Rows [row0, row0 + Rows) of a [B,H,T,64] operand (head b, h; rows >= limit zero-filled) into a
// swizzled tile at a 1024-aligned shared address, by the block's Threads threads: each copies
// the same 16-byte column of rows r, r + Threads / 8, ... (below Rows), all with the same r % 8,
// so its swizzled column is the same in every row it copies.
template <int Rows, int Threads>
struct SwizzledLoader {
  static constexpr int kRowsPerRound = Threads / 8;
  static constexpr int kRounds = (Rows + kRowsPerRound - 1) / kRowsPerRound;
  static_assert(kRowsPerRound % 8 == 0, "rounds of whole 8-row groups");
  const bf16* base;  // row `first` of the head, this thread's column
  uint32_t offset;   // bytes from the tile's base to this thread's first destination

  __device__ static int first() { return static_cast<int>(threadIdx.x) / 8; }
  __device__ SwizzledLoader(const Heads<const bf16>& src, int64_t b, int64_t h)
      : base(src.data + b * src.sb + h * src.sh + first() * src.st + static_cast<int>(threadIdx.x) % 8 * 8),
        offset(first() * kRowBytes + ((static_cast<int>(threadIdx.x) % 8) ^ (first() % 8)) * 16) {}
  __device__ __forceinline__ void load(uint32_t tile, const Heads<const bf16>& src, int64_t row0, int64_t limit) const {
    const int64_t left = limit - row0 - first();
    const bf16* from = base + row0 * src.st;
#pragma unroll
    for (int round = 0; round < kRounds; ++round) {
      if (Rows % kRowsPerRound != 0 && round == kRounds - 1 && first() >= Rows - round * kRowsPerRound) break;
      const bool valid = round * kRowsPerRound < left;
      cp_async16_to(tile + offset + round * kRowsPerRound * kRowBytes,
                    valid ? from + round * kRowsPerRound * src.st : src.data, valid);
    }
  }
};

}  // namespace ember::cuda::attention
