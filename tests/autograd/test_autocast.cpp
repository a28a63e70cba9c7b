// bf16 autocast (mixed precision) and the type promotion of binary elementwise ops.
#include <algorithm>
#include <cmath>

#include "autograd/autocast.h"
#include "nn/nn.h"
#include "optim/adam.h"
#include "tests/testing.h"

namespace ember {
namespace {

using Inputs = std::vector<Tensor>;

// max |a - b| / max |b|, in f64.
double relative_error(const Tensor& a, const Tensor& b) {
  std::vector<double> va = to(a, DType::F64).to_vector<double>(), vb = to(b, DType::F64).to_vector<double>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    diff = std::max(diff, std::abs(va[i] - vb[i]));
    scale = std::max(scale, std::abs(vb[i]));
  }
  return diff / std::max(scale, 1e-12);
}

Tensor f32_leaf(const Shape& shape) { return randn(shape).set_requires_grad(); }
Tensor bf16_leaf(const Shape& shape) { return randn(shape, {.dtype = DType::BF16}).set_requires_grad(); }

TEST(Autocast, GuardNestsAndRestores) {
  EXPECT_FALSE(autocast_enabled());
  {
    AutocastGuard outer(DType::BF16);
    EXPECT_TRUE(autocast_enabled());
    EXPECT_EQ(autocast_dtype(), DType::BF16);
    {
      AutocastGuard off(DType::BF16, false);
      EXPECT_FALSE(autocast_enabled());
      EXPECT_EQ(matmul(randn({2, 3}), randn({3, 2})).dtype(), DType::F32);
      {
        AutocastGuard inner(DType::BF16);
        EXPECT_TRUE(autocast_enabled());
      }
      EXPECT_FALSE(autocast_enabled());
    }
    EXPECT_TRUE(autocast_enabled());
    EXPECT_EQ(matmul(randn({2, 3}), randn({3, 2})).dtype(), DType::BF16);
  }
  EXPECT_FALSE(autocast_enabled());
  EXPECT_EQ(matmul(randn({2, 3}), randn({3, 2})).dtype(), DType::F32);
  EXPECT_THROW({ AutocastGuard bad(DType::I64); }, Error);
  EXPECT_THROW({ AutocastGuard bad(DType::F64); }, Error);
}

TEST(Autocast, LinearRunsInBf16WithF32MasterWeights) {
  nn::Linear linear(16, 8);
  const Tensor x = randn({5, 16}), upstream = randn({5, 8});
  backward(sum(linear(x) * upstream));
  const Tensor w_ref = linear.weight().grad(), b_ref = linear.bias().grad();
  linear.zero_grad();
  Tensor y;
  {
    AutocastGuard autocast(DType::BF16);
    y = linear(x);
    EXPECT_EQ(y.dtype(), DType::BF16);
    backward(sum(y * upstream));
  }
  for (const Tensor& p : linear.parameters()) {
    EXPECT_EQ(p.dtype(), DType::F32);
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().dtype(), DType::F32);
  }
  EXPECT_LT(relative_error(linear.weight().grad(), w_ref), 2e-2);
  EXPECT_LT(relative_error(linear.bias().grad(), b_ref), 2e-2);
  EXPECT_LT(relative_error(y, linear(x)), 2e-2);
}

TEST(Autocast, MatmulConvAttentionComputeInBf16) {
  AutocastGuard autocast(DType::BF16);
  const Tensor a = f32_leaf({3, 4}), b = f32_leaf({4, 5});
  Tensor y = matmul(a, b);
  EXPECT_EQ(y.dtype(), DType::BF16);
  backward(sum(y));
  EXPECT_EQ(a.grad().dtype(), DType::F32);
  EXPECT_EQ(b.grad().dtype(), DType::F32);

  const Tensor x = f32_leaf({2, 3, 6, 6}), w = f32_leaf({4, 3, 3, 3}), bias = f32_leaf({4});
  Tensor c = conv2d(x, w, bias, {1, 1}, {1, 1});
  EXPECT_EQ(c.dtype(), DType::BF16);
  backward(sum(c));
  for (const Tensor& t : {x, w, bias}) EXPECT_EQ(t.grad().dtype(), DType::F32);
  EXPECT_EQ(conv1d(randn({2, 3, 8}), randn({4, 3, 3}), Tensor()).dtype(), DType::BF16);

  const Tensor q = f32_leaf({2, 2, 5, 4}), k = f32_leaf({2, 2, 5, 4}), v = f32_leaf({2, 2, 5, 4});
  Tensor o = scaled_dot_product_attention(q, k, v, true);
  EXPECT_EQ(o.dtype(), DType::BF16);
  backward(sum(o * o));
  for (const Tensor& t : {q, k, v}) EXPECT_EQ(t.grad().dtype(), DType::F32);
}

TEST(Autocast, LeavesF64AndBf16Alone) {
  AutocastGuard autocast(DType::BF16);
  EXPECT_EQ(matmul(randn({2, 3}, {.dtype = DType::F64}), randn({3, 2}, {.dtype = DType::F64})).dtype(), DType::F64);
  EXPECT_EQ(matmul(randn({2, 3}, {.dtype = DType::BF16}), randn({3, 2})).dtype(), DType::BF16);
  // f64 operands switch autocast off for the op: matmul needs equal dtypes, as without autocast.
  EXPECT_THROW(matmul(randn({2, 3}, {.dtype = DType::F64}), randn({3, 2})), Error);
  EXPECT_EQ(softmax(randn({2, 3}, {.dtype = DType::F64}), -1).dtype(), DType::F64);
}

TEST(Autocast, PrecisionSensitiveOpsRunInF32) {
  const Tensor x = bf16_leaf({4, 6});
  const Tensor target = randint(0, 6, {4});
  {
    // Without autocast bf16 stays bf16.
    EXPECT_EQ(softmax(x, -1).dtype(), DType::BF16);
    EXPECT_EQ(sum(x).dtype(), DType::BF16);
  }
  AutocastGuard autocast(DType::BF16);
  EXPECT_EQ(softmax(x, -1).dtype(), DType::F32);
  EXPECT_EQ(softmax(x, 0).dtype(), DType::F32);
  EXPECT_EQ(log_softmax(x, -1).dtype(), DType::F32);
  EXPECT_EQ(layer_norm(x, {6}, ones({6}), zeros({6})).dtype(), DType::F32);
  EXPECT_EQ(layer_norm(x, {6}, Tensor(), Tensor()).dtype(), DType::F32);
  EXPECT_EQ(cross_entropy(x, target).dtype(), DType::F32);
  EXPECT_EQ(nll_loss(log_softmax(x, -1), target).dtype(), DType::F32);
  EXPECT_EQ(nll_loss(x, target).dtype(), DType::F32);
  EXPECT_EQ(mse_loss(x, zeros({4, 6})).dtype(), DType::F32);
  EXPECT_EQ(binary_cross_entropy_with_logits(x, zeros({4, 6}, {.dtype = DType::BF16})).dtype(), DType::F32);
  EXPECT_EQ(sum(x).dtype(), DType::F32);
  EXPECT_EQ(mean(x, {1}).dtype(), DType::F32);
  EXPECT_EQ(group_norm(reshape(x, {2, 4, 3}), 2, ones({4}), zeros({4})).dtype(), DType::F32);
  EXPECT_EQ(batch_norm(reshape(x, {4, 6}), zeros({6}), ones({6}), ones({6}), zeros({6}), true).dtype(), DType::F32);

  // The gradient returns to the bf16 input in bf16, and matches the f32 computation.
  Tensor loss = cross_entropy(x, target);
  backward(loss);
  EXPECT_EQ(x.grad().dtype(), DType::BF16);
  const Tensor x32 = detach(to(x, DType::F32)).set_requires_grad();
  AutocastGuard off(DType::BF16, false);
  backward(cross_entropy(x32, target));
  EXPECT_LT(relative_error(x.grad(), x32.grad()), 2e-2);
}

TEST(Promotion, F32AndBf16GiveF32WithGradientsInTheirOwnDtypes) {
  const Tensor a = f32_leaf({3, 4}), b = bf16_leaf({4});
  Tensor y = a + b;
  EXPECT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ((b + a).dtype(), DType::F32);
  backward(sum(y * a - b / (abs(a) + 1.0)));
  EXPECT_EQ(a.grad().dtype(), DType::F32);
  EXPECT_EQ(b.grad().dtype(), DType::BF16);
  EXPECT_EQ(b.grad().shape(), (Shape{4}));
  // d/db of sum((a + b) a - b / (|a| + 1)) = sum_rows a - 1 / (|a| + 1)
  const Tensor av = detach(a);
  EXPECT_LT(relative_error(b.grad(), sum(av - 1.0 / (abs(av) + 1.0), {0})), 2e-2);

  for (const Tensor& r : {a - b, a * b, a / b, maximum(a, b), minimum(b, a), pow(abs(a) + 1.0, b),
                          where(gt(a, zeros({1})), a, b)})
    EXPECT_EQ(r.dtype(), DType::F32);
  EXPECT_EQ(lt(a, b).dtype(), DType::Bool);
  EXPECT_EQ((randn({2}, {.dtype = DType::F64}) + randn({2})).dtype(), DType::F64);
  EXPECT_EQ((randn({2}, {.dtype = DType::BF16}) * randn({2}, {.dtype = DType::F64})).dtype(), DType::F64);
}

TEST(Promotion, NonFloatingMixesStillThrow) {
  const Tensor f = randn({3}), mask = gt(randn({3}), zeros({3})), idx = randint(0, 3, {3});
  EXPECT_THROW(add(mask, f), Error);
  EXPECT_THROW(mul(f, idx), Error);
  EXPECT_THROW(where(mask, f, idx), Error);
  try {
    add(mask, f);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("add: dtype mismatch, bool [3] and f32 [3]"), std::string::npos) << e.what();
  }
}

TEST(Promotion, GradcheckOfF64WithF32Operand) {
  const Tensor c = randn({3, 4});
  auto f = [](const Inputs& in) { return in[0] * in[1] + in[1] / (in[0] * in[0] + 1.0) - maximum(in[0], in[1]); };
  EXPECT_GRADCHECK(f, {testing::leaf({3, 4}), c});
  EXPECT_GRADCHECK(f, {testing::leaf({4}), c});  // broadcast
  EXPECT_GRADCHECK([](const Inputs& in) { return pow(in[1] * in[1] + 1.0, in[0]); }, {testing::leaf({3, 4}), c});
  const Tensor a = testing::leaf({3, 4}), b = f32_leaf({3, 4});
  backward(sum(f({a, b})));
  EXPECT_EQ(a.grad().dtype(), DType::F64);
  EXPECT_EQ(b.grad().dtype(), DType::F32);
}

TEST(Promotion, InPlaceOpsKeepTheirDtype) {
  const Tensor p = zeros({4});
  add_(p, ones({4}, {.dtype = DType::BF16}), 0.5);
  mul_(p, full({4}, 4.0, {.dtype = DType::F64}));
  EXPECT_EQ(p.dtype(), DType::F32);
  EXPECT_EQ(p.to_vector<float>(), std::vector<float>(4, 2.0f));
  EXPECT_THROW(add_(p, gt(p, zeros({1}))), Error);
}

TEST(Autocast, WeightCastOncePerRegionWhileUnchanged) {
  const Tensor w = f32_leaf({4, 4}), x = randn({2, 4});
  AutocastGuard autocast(DType::BF16);
  auto [c1] = autocast::lower(w);
  auto [c2] = autocast::lower(w);
  EXPECT_EQ(c1.dtype(), DType::BF16);
  EXPECT_TRUE(c1.is_same(c2));
  // Used twice in one forward: one cast, and the gradient collects both uses.
  backward(sum(matmul(x, w) + matmul(x * 2.0, w)));
  Tensor expected = matmul(transpose(x * 3.0, 0, 1), ones({2, 4}));
  EXPECT_LT(relative_error(w.grad(), expected), 2e-2);
  // backward() freed the cast's graph, and an optimizer step bumps the version: recast.
  auto [c3] = autocast::lower(w);
  EXPECT_FALSE(c3.is_same(c1));
  {
    NoGradGuard no_grad;
    add_(w, ones({4, 4}));
  }
  auto [c4] = autocast::lower(w);
  EXPECT_FALSE(c4.is_same(c3));
  EXPECT_EQ(relative_error(c4, to(detach(w), DType::BF16)), 0.0);
}

// Trains `model` with AdamW on (inputs, targets) for `steps`, with or without autocast; returns
// the losses.
template <typename Forward>
std::vector<double> train(nn::Module& model, Forward forward, int steps, bool autocast) {
  AdamW opt(model.parameters(), {.lr = 1e-2, .weight_decay = 0.0});
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    AutocastGuard guard(DType::BF16, autocast);
    Tensor loss = forward();
    EXPECT_EQ(loss.dtype(), DType::F32);
    opt.zero_grad();
    backward(loss);
    opt.step();
    losses.push_back(loss.item());
  }
  for (const Tensor& p : model.parameters()) {
    EXPECT_EQ(p.dtype(), DType::F32);
    EXPECT_EQ(p.grad().dtype(), DType::F32);
  }
  return losses;
}

void expect_close_runs(const std::vector<double>& f32, const std::vector<double>& bf16, double fall) {
  EXPECT_LT(f32.back(), fall * f32.front());
  EXPECT_LT(bf16.back(), fall * bf16.front());
  for (size_t i = 0; i < f32.size(); ++i)
    EXPECT_NEAR(bf16[i], f32[i], 0.05 * f32.front() + 0.05 * f32[i]) << "step " << i;
  std::cout << "loss f32 " << f32.front() << " -> " << f32.back() << ", autocast " << bf16.front() << " -> "
            << bf16.back() << "\n";
}

TEST(AutocastTraining, MLPMatchesF32) {
  const Tensor x = randn({64, 10}), teacher = randn({10, 3});
  const Tensor y = argmax(matmul(x, teacher), 1);
  std::vector<std::vector<double>> runs;
  for (bool autocast : {false, true}) {
    manual_seed(7);
    auto mlp = nn::MLP({.in_features = 10, .hidden = {32, 32}, .out_features = 3, .activation = "gelu"});
    runs.push_back(train(*mlp, [&] { return cross_entropy((*mlp)(x), y); }, 40, autocast));
  }
  expect_close_runs(runs[0], runs[1], 0.3);
}

TEST(AutocastTraining, GPTMatchesF32) {
  const int64_t vocab = 11, t = 8;
  // Each sequence counts up from a random start: the next token is predictable.
  const std::vector<int64_t> start = randint(0, vocab, {8}).to_vector<int64_t>();
  std::vector<int64_t> tokens;
  for (int64_t s : start)
    for (int64_t i = 0; i <= t; ++i) tokens.push_back((s + i) % vocab);
  const Tensor seq = from_vector(tokens, {8, t + 1});
  const Tensor inputs = narrow(seq, 1, 0, t), targets = narrow(seq, 1, 1, t);
  std::vector<std::vector<double>> runs;
  for (bool autocast : {false, true}) {
    manual_seed(11);
    auto gpt = nn::GPT({.vocab_size = vocab, .context_length = t, .d_model = 32, .n_layers = 2, .n_heads = 4});
    runs.push_back(train(
        *gpt,
        [&] {
          Tensor logits = (*gpt)(inputs);
          if (autocast_enabled()) {
            EXPECT_EQ(logits.dtype(), DType::BF16);
          }
          return cross_entropy(reshape(logits, {-1, vocab}), reshape(targets, {-1}));
        },
        30, autocast));
  }
  expect_close_runs(runs[0], runs[1], 0.5);
}

// A whole Transformer block (layer norms, attention, GELU MLP) under bf16 autocast against the
// same block in f32. bf16 keeps 8 significant bits (unit roundoff u = 2^-8 = 3.9e-3) and the
// products accumulate in f32, so each rounded operand contributes about u of relative error and a
// chain of four products (qkv, attention, the two MLP layers) a few u. The stated bound: the
// output and every parameter gradient within 8 u = 3.1e-2 of the f32 result (max-norm relative);
// measured once: output 1.4e-3, gradients of the first parameters 4e-3 to 7e-3.
TEST(Autocast, TransformerBlockWithinStatedBoundOfF32) {
  constexpr double u = 1.0 / 256, bound = 8 * u;
  nn::TransformerBlock block({.d_model = 64, .n_heads = 4, .causal = true});
  const Tensor x = randn({2, 32, 64}), upstream = randn({2, 32, 64});
  const Tensor y_ref = block(x);
  backward(sum(y_ref * upstream));
  std::vector<Tensor> grads_ref;
  for (const Tensor& p : block.parameters()) grads_ref.push_back(p.grad());
  block.zero_grad();
  Tensor y;
  {
    AutocastGuard autocast(DType::BF16);
    y = block(x);
    backward(sum(y * upstream));
  }
  EXPECT_LT(relative_error(y, y_ref), bound);
  const std::vector<Tensor> params = block.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    ASSERT_TRUE(params[i].grad().defined());
    EXPECT_LT(relative_error(params[i].grad(), grads_ref[i]), bound) << "parameter " << i;
  }
}

}  // namespace
}  // namespace ember
