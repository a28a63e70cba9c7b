// Memory accounting of the CPU allocator: bytes in use and the resettable peak.
#include <gtest/gtest.h>

#include "tensor/creation.h"
#include "tensor/storage.h"

namespace ember {
namespace {

const Device cpu = Device::cpu();
constexpr size_t kBytes = 1024 * sizeof(float);  // a multiple of 64: no rounding

TEST(Memory, InUseFollowsLiveTensors) {
  const size_t base = memory_in_use(cpu);
  {
    Tensor a = empty({1024}, {.dtype = DType::F32});
    EXPECT_EQ(memory_in_use(cpu), base + kBytes);
    Tensor view = a;  // a second handle shares the storage: nothing more allocated
    EXPECT_EQ(memory_in_use(cpu), base + kBytes);
  }
  EXPECT_EQ(memory_in_use(cpu), base);
}

TEST(Memory, AllocationsRoundUpTo64Bytes) {
  const size_t base = memory_in_use(cpu);
  Tensor a = empty({1}, {.dtype = DType::F32});
  EXPECT_EQ(memory_in_use(cpu), base + 64);
}

TEST(Memory, PeakIsTheMostInUseSinceTheReset) {
  reset_peak_memory(cpu);
  const size_t base = memory_in_use(cpu);
  EXPECT_EQ(peak_memory(cpu), base);
  {
    Tensor a = empty({1024}, {.dtype = DType::F32});
    Tensor b = empty({2048}, {.dtype = DType::F32});
    EXPECT_EQ(peak_memory(cpu), base + 3 * kBytes);
  }
  Tensor c = empty({1024}, {.dtype = DType::F32});  // less than the peak: it stays
  EXPECT_EQ(memory_in_use(cpu), base + kBytes);
  EXPECT_EQ(peak_memory(cpu), base + 3 * kBytes);
  reset_peak_memory(cpu);
  EXPECT_EQ(peak_memory(cpu), base + kBytes);
}

}  // namespace
}  // namespace ember
