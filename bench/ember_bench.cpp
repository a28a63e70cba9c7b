// ember's side of the CPU benchmarks. Prints one JSON object per case:
// {"case": name, "ms": median milliseconds}. bench/torch_bench.py prints the same cases for
// PyTorch; bench/run.sh runs both with the same thread count and prints the ratios.
#include <iostream>
#include <map>
#include <string>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "nn/nn.h"
#include "optim/optim.h"

namespace ember {
namespace {

// `params` (the model's parameter count, when the case has a model) lets compare.py check
// that both sides train the same architecture.
void report(const std::string& name, double ms, int64_t params = -1) {
  std::cout << "{\"case\": \"" << name << "\", \"ms\": " << ms;
  if (params >= 0) std::cout << ", \"params\": " << params;
  std::cout << "}" << std::endl;
}

void bench_matmul() {
  Tensor a = randn({1024, 1024}), b = randn({1024, 1024});
  report("matmul_f32_1024", bench::median_ms([&] { matmul(a, b); }));
}

void bench_elementwise() {
  const int64_t n = 16 << 20;
  Tensor a = randn({n}), b = randn({n}), c = randn({n});
  report("mul_add_16M", bench::median_ms([&] { a * b + c; }));
}

void bench_softmax() {
  Tensor x = randn({4096, 4096});
  report("softmax_4096x4096", bench::median_ms([&] { softmax(x, -1); }));
}

// The engine's cost per op, not the arithmetic's: 1000 differentiable ops on 16-element
// tensors, then backward through all of them (what a GPU step pays on the host for each kernel).
void bench_op_overhead() {
  Tensor x = randn({16}).set_requires_grad(), w = randn({16}).set_requires_grad();
  report("tiny_ops_1000_fwd_bwd", bench::median_ms([&] {
    x.set_grad(Tensor());
    w.set_grad(Tensor());
    Tensor h = x;
    for (int i = 0; i < 250; ++i) h = tanh(h * w + x) - x;
    backward(sum(h));
  }));
}

void bench_mlp() {
  auto param = [](int64_t in, int64_t out) { return (randn({in, out}) * (1.0 / std::sqrt(in))).set_requires_grad(); };
  Tensor w1 = param(784, 512), w2 = param(512, 512), w3 = param(512, 10);
  Tensor b1 = zeros({512}).set_requires_grad(), b2 = zeros({512}).set_requires_grad(), b3 = zeros({10}).set_requires_grad();
  Tensor x = randn({128, 784});
  Tensor y = randint(0, 10, {128});
  auto forward = [&] {
    Tensor h = relu(matmul(x, w1) + b1);
    h = relu(matmul(h, w2) + b2);
    return cross_entropy(matmul(h, w3) + b3, y);
  };
  report("mlp_forward_backward", bench::median_ms([&] {
    for (const Tensor& p : {w1, w2, w3, b1, b2, b3}) p.set_grad(Tensor());
    backward(forward());
  }, 5, 31));
  Tensor loss;
  auto zero_and_forward = [&] {
    for (const Tensor& p : {w1, w2, w3, b1, b2, b3}) p.set_grad(Tensor());
    loss = forward();
  };
  report("mlp_backward_only", bench::median_ms(zero_and_forward, [&] { backward(loss); }, 5, 31));
}

// The layers issue's CNN training step: conv 1->32, pool, conv 32->64, pool, fc 3136->128->10,
// batch 64 of 28x28, Adam.
void bench_cnn() {
  using namespace nn;
  nn::ConvOptions same{.padding = 1};
  auto model = std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
      std::make_shared<Conv2d>(1, 32, 3, same), std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
      std::make_shared<Conv2d>(32, 64, 3, same), std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
      std::make_shared<Flatten>(), std::make_shared<Linear>(3136, 128), std::make_shared<ReLU>(),
      std::make_shared<Linear>(128, 10)});
  Adam adam(model->parameters(), AdamOptions{.lr = 1e-3});
  Tensor x = randn({64, 1, 28, 28});
  Tensor y = randint(0, 10, {64});
  report("cnn_train_step_adam", bench::median_ms([&] {
    adam.zero_grad();
    backward(cross_entropy(model->forward(x), y));
    adam.step();
  }, 3, 21));
}

// Hyena's long convolution: 256 channels, L = 4096, forward + backward.
void bench_fft_conv() {
  Tensor u = randn({1, 256, 4096}).set_requires_grad();
  Tensor k = randn({256, 4096}).set_requires_grad();
  Tensor d = randn({256}).set_requires_grad();
  Tensor g = randn({1, 256, 4096});
  report("fft_conv_fwd_bwd_256x4096", bench::median_ms([&] { backward(fft_conv(u, k, d), g); }, 3, 21));
}

// A GPT-style causal char LM (tiny-shakespeare's 65 characters): d = 128, 4 pre-norm blocks of
// 4 heads with a 4x GELU (erf) MLP, T = 256, batch 16, tied LM head; one full AdamW training
// step (zero_grad, forward, cross-entropy, backward, step).
void bench_char_transformer() {
  const int64_t vocab = 65, length = 256, batch = 16;
  auto model = nn::GPT({.vocab_size = vocab, .context_length = length, .d_model = 128, .n_layers = 4, .n_heads = 4});
  AdamW adamw(model->parameters(), AdamOptions{.lr = 3e-4, .weight_decay = 0.01});
  Tensor tokens = randint(0, vocab, {batch, length});
  Tensor targets = randint(0, vocab, {batch * length});
  report("char_transformer_train_step", bench::median_ms([&] {
    adamw.zero_grad();
    backward(cross_entropy(reshape(model->forward(tokens), {batch * length, vocab}), targets));
    adamw.step();
  }, 3, 15), model->num_parameters());
}

}  // namespace
}  // namespace ember

int main(int argc, char** argv) {
  using namespace ember;
  const std::map<std::string, void (*)()> cases = {
      {"matmul", bench_matmul}, {"elementwise", bench_elementwise}, {"softmax", bench_softmax},
      {"mlp", bench_mlp},       {"cnn", bench_cnn},                {"fft_conv", bench_fft_conv},
      {"char_transformer", bench_char_transformer}, {"op_overhead", bench_op_overhead}};
  if (argc > 1 && std::string(argv[1]) == "--help") {
    std::cout << "usage: ember_bench [case...]   cases: matmul elementwise softmax mlp cnn fft_conv char_transformer op_overhead (default: all)\n";
    return 0;
  }
  manual_seed(0);
  for (const auto& [name, fn] : cases) {
    bool wanted = argc == 1;
    for (int i = 1; i < argc; ++i) wanted |= name == argv[i];
    if (wanted) fn();
  }
}
