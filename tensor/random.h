#pragma once
// Counter-based random numbers (Philox 4x32-10, Salmon et al. 2011): the value of element i
// depends only on (seed, offset, i), so the CPU and a GPU kernel produce the same numbers and
// a run is reproducible from its seed. Functions are header-only so device code can use them.
#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define EMBER_HD __host__ __device__
#else
#define EMBER_HD
#endif

namespace ember {

struct Philox4 {
  uint32_t v[4];
};

EMBER_HD inline Philox4 philox4x32(uint64_t counter, uint64_t subsequence, uint64_t key) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = static_cast<uint32_t>(subsequence), c3 = static_cast<uint32_t>(subsequence >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in (0, 1]: 24 random bits, never 0 (so log() is safe).
EMBER_HD inline float uint_to_unit(uint32_t x) { return (static_cast<float>(x >> 8) + 1.0f) * (1.0f / 16777216.0f); }

// Element i of a uniform (0,1] stream: block i/4 of the counter, word i%4.
EMBER_HD inline float philox_uniform(uint64_t key, uint64_t offset, uint64_t i) {
  return uint_to_unit(philox4x32(i / 4, offset, key).v[i % 4]);
}

// Element i of a standard normal stream: Box-Muller on two words of block i/2.
EMBER_HD inline float philox_normal(uint64_t key, uint64_t offset, uint64_t i) {
  Philox4 r = philox4x32(i / 2, offset, key);
  unsigned w = static_cast<unsigned>(i % 2) * 2;
  float u1 = uint_to_unit(r.v[w]), u2 = uint_to_unit(r.v[w + 1]);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.283185307179586f * u2);
}

// The process-wide generator: a seed and an offset that each draw advances, so successive
// draws are independent streams. State is (seed, offset): save both to resume a run exactly.
struct GeneratorState {
  uint64_t seed = 0x5eed;
  uint64_t offset = 0;
};

GeneratorState& default_generator();
void manual_seed(uint64_t seed);
// Reserves a fresh stream for one draw; returns (key, offset) to feed philox_uniform/normal.
GeneratorState next_stream();

}  // namespace ember
