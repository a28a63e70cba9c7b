// The CUDA runtime pieces: device queries, the stream-ordered allocator and its accounting,
// host <-> device copies, and the errors for misuse (host tensors handed to the CUDA backend,
// devices that do not exist).
#include "tests/cuda/parity.h"

namespace ember {
namespace {

using testing::CudaTest;

DeviceAllocator& gpu_memory() { return allocator_for(Device::cuda()); }

TEST(CudaQueries, AnswerWithoutADevice) {
  // Holds in every build: a CPU-only build and a GPU-less machine both report no device.
  EXPECT_EQ(cuda_available(), cuda_device_count() > 0);
}

#ifdef EMBER_HAVE_CUDA
TEST(CudaQueries, TheBackendIsRegisteredInEveryProgram) {
  EXPECT_NO_THROW(backend_for(Device::cuda()));
  EXPECT_NO_THROW(allocator_for(Device::cuda()));
  if (cuda_available()) return;
  try {
    empty({2}, {.device = Device::cuda()});
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no usable CUDA device"), std::string::npos) << e.what();
  }
}
#endif

TEST_F(CudaTest, RoundTripKeepsEveryDtypeExactly) {
  for (DType dtype : {DType::F32, DType::F64, DType::BF16, DType::I64, DType::Bool}) {
    Tensor host = testing::random({3, 17, 5}, dtype);
    Tensor device = to(host, Device::cuda());
    EXPECT_EQ(device.device(), Device::cuda());
    EXPECT_EQ(device.to_vector<double>(), host.to_vector<double>()) << dtype;
    EXPECT_EQ(to(device, Device::cpu()).to_vector<double>(), host.to_vector<double>()) << dtype;
  }
}

TEST_F(CudaTest, CreationOnTheDeviceMatchesTheHost) {
  manual_seed(11);
  Tensor host = randn({4, 9});
  manual_seed(11);
  Tensor device = randn({4, 9}, {.device = Device::cuda()});
  EXPECT_EQ(device.to_vector<double>(), host.to_vector<double>());
  EXPECT_EQ(arange(0, 10, 1, {.device = Device::cuda()}).to_vector<double>(), arange(0, 10).to_vector<double>());
}

TEST_F(CudaTest, DeviceToDeviceCopy) {
  Tensor src = to(randn({1000}), Device::cuda());
  Tensor dst = empty({1000}, {.device = Device::cuda()});
  copy_bytes(dst.data_ptr(), dst.device(), src.data_ptr(), src.device(), 1000 * sizeof(float));
  EXPECT_EQ(dst.to_vector<double>(), src.to_vector<double>());
}

TEST_F(CudaTest, BytesInUseFollowAllocations) {
  const size_t before = gpu_memory().bytes_in_use();
  {
    Tensor a = empty({1 << 20}, {.device = Device::cuda()});
    EXPECT_EQ(gpu_memory().bytes_in_use(), before + (size_t{4} << 20));
    Tensor b = empty({3}, {.dtype = DType::F64, .device = Device::cuda()});
    EXPECT_EQ(gpu_memory().bytes_in_use(), before + (size_t{4} << 20) + 24);
  }
  EXPECT_EQ(gpu_memory().bytes_in_use(), before);
  Tensor none = empty({0}, {.device = Device::cuda()});
  EXPECT_EQ(gpu_memory().bytes_in_use(), before);
}

TEST_F(CudaTest, ManyAllocationsAreReusedFromThePool) {
  const size_t before = gpu_memory().bytes_in_use();
  for (int i = 0; i < 200; ++i) {
    Tensor t = full({257, 31}, i, {.device = Device::cuda()});
    ASSERT_EQ(t.to_vector<double>()[100], i);
  }
  EXPECT_EQ(gpu_memory().bytes_in_use(), before);
}

TEST_F(CudaTest, HostTensorsHandedToTheCudaBackendAreRefused) {
  Tensor host = randn({4});
  Tensor out = empty({4}, {.device = Device::cuda()});
  try {
    backend_for(Device::cuda()).unary(UnaryOp::Exp, host, out);
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unary: operand of shape [4] is on cpu"), std::string::npos) << e.what();
  }
}

TEST_F(CudaTest, OtherDevicesAreRefused) {
  try {
    to(randn({2}), Device::cuda(1));
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ember
