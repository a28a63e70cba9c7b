// The CUDA backend under autograd: gradient checks of representative ops run on the GPU in
// f64, a small MLP trained on both devices to the same losses, and device memory that stays
// flat across training steps.
#include <memory>

#include "nn/nn.h"
#include "optim/optim.h"
#include "tests/cuda/parity.h"

namespace ember {
namespace {

using testing::CudaTest;

const Device kGpu = Device::cuda();

Tensor gpu_leaf(const Shape& shape) { return randn(shape, {.dtype = DType::F64, .device = kGpu}).set_requires_grad(); }

Tensor gpu_transposed_leaf(const Shape& shape) {
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  return detach(transpose(randn(swapped, {.dtype = DType::F64, .device = kGpu}), -1, -2)).set_requires_grad();
}

using Inputs = std::vector<Tensor>;

TEST_F(CudaTest, GradcheckMatmulBroadcastAddTanh) {
  EXPECT_GRADCHECK([](const Inputs& in) { return tanh(matmul(in[0], in[1]) + in[2]); },
                   {gpu_transposed_leaf({5, 4}), gpu_leaf({4, 3}), gpu_leaf({3})});
}

TEST_F(CudaTest, GradcheckElementwiseAndReductions) {
  EXPECT_GRADCHECK([](const Inputs& in) { return sum(sigmoid(in[0]) * exp(in[1]), {0}) / (in[2] * in[2] + 1.0); },
                   {gpu_leaf({3, 4, 5}), gpu_transposed_leaf({1, 4, 5}), gpu_leaf({4, 1})});
}

TEST_F(CudaTest, GradcheckSoftmaxAndLayerNorm) {
  EXPECT_GRADCHECK([](const Inputs& in) { return log_softmax(in[0], -1) * softmax(in[0], 0); }, {gpu_leaf({4, 6})});
  EXPECT_GRADCHECK([](const Inputs& in) { return layer_norm(in[0], {6}, in[1], in[2]); },
                   {gpu_transposed_leaf({3, 6}), gpu_leaf({6}), gpu_leaf({6})});
}

TEST_F(CudaTest, GradcheckCrossEntropyAndIndexOps) {
  Tensor target = to(from_vector<int64_t>({2, 0, -100, 4}, {4}), kGpu);
  EXPECT_GRADCHECK([target](const Inputs& in) { return cross_entropy(in[0], target, Reduction::Mean, -100, 0.1); },
                   {gpu_leaf({4, 5})});
  Tensor index = to(from_vector<int64_t>({3, 0, 3, 1}, {4}), kGpu);
  EXPECT_GRADCHECK([index](const Inputs& in) { return index_select(in[0], 1, index) * 2.0; }, {gpu_leaf({3, 5})});
  Tensor gather_index = to(from_vector<int64_t>({1, 1, 0, 2, 2, 0}, {3, 2}), kGpu);
  EXPECT_GRADCHECK([gather_index](const Inputs& in) { return gather(in[0], 1, gather_index); }, {gpu_leaf({3, 4})});
}

// Three Linear layers with the same initial weights on either device.
struct Mlp {
  std::shared_ptr<nn::Linear> l1, l2, l3;

  Mlp(uint64_t seed, Device device) {
    manual_seed(seed);
    l1 = std::make_shared<nn::Linear>(16, 64);
    l2 = std::make_shared<nn::Linear>(64, 32);
    l3 = std::make_shared<nn::Linear>(32, 5);
    for (auto* l : {l1.get(), l2.get(), l3.get()}) l->to(device);
  }
  Tensor operator()(const Tensor& x) const { return (*l3)(relu((*l2)(tanh((*l1)(x))))); }
  std::vector<Tensor> parameters() const {
    std::vector<Tensor> all;
    for (auto* l : {l1.get(), l2.get(), l3.get()})
      for (const Tensor& p : l->parameters()) all.push_back(p);
    return all;
  }
};

enum class Method { Sgd, Adam };

// The loss of each of 20 steps; `memory` gets the device memory in use after each step.
std::vector<double> train(Device device, Method method, std::vector<size_t>* memory = nullptr) {
  manual_seed(4);
  const Tensor x = to(randn({64, 16}), device), y = to(randint(0, 5, {64}), device);
  Mlp model(3, device);
  std::unique_ptr<Optimizer> opt;
  if (method == Method::Sgd) opt = std::make_unique<SGD>(model.parameters(), SgdOptions{.lr = 0.1, .momentum = 0.9});
  else opt = std::make_unique<Adam>(model.parameters(), AdamOptions{.lr = 1e-2});
  std::vector<double> losses;
  for (int step = 0; step < 20; ++step) {
    {
      Tensor loss = cross_entropy(model(x), y);
      opt->zero_grad();
      backward(loss);
      opt->step();
      losses.push_back(loss.item());
    }
    if (memory) memory->push_back(allocator_for(device).bytes_in_use());
  }
  return losses;
}

TEST_F(CudaTest, MlpTrainsToTheSameLossesOnBothDevices) {
  for (Method method : {Method::Sgd, Method::Adam}) {
    const std::vector<double> cpu = train(Device::cpu(), method), gpu = train(kGpu, method);
    ASSERT_EQ(cpu.size(), gpu.size());
    EXPECT_LT(cpu.back(), cpu.front());  // it learns
    for (size_t i = 0; i < cpu.size(); ++i)
      EXPECT_NEAR(gpu[i], cpu[i], 1e-4 * std::abs(cpu[i])) << (method == Method::Sgd ? "SGD" : "Adam") << " step " << i;
  }
}

TEST_F(CudaTest, DeviceMemoryStaysFlatAcrossTrainingSteps) {
  std::vector<size_t> memory;
  train(kGpu, Method::Adam, &memory);
  // Step 0 creates the gradients and step 1 the optimizer state is settled; after that every
  // step frees what it allocates.
  for (size_t i = 2; i < memory.size(); ++i) EXPECT_EQ(memory[i], memory[1]) << "step " << i;
}

}  // namespace
}  // namespace ember
