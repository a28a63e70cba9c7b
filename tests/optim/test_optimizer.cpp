// The optimizer base: groups, zero_grad, skipped parameters, exact save/restore, input checks.
#include "tests/optim/quadratic.h"

namespace ember {
namespace {

using testing::expect_error;
using testing::Quadratic;
using testing::Values;
using Make = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

void take_steps(const Quadratic& q, const Tensor& p, Optimizer& opt, int steps) {
  for (int t = 0; t < steps; ++t) {
    q.backprop(p);
    opt.step();
  }
}

// Saving after 3 steps and resuming in a fresh optimizer gives bit-identical parameters.
void expect_exact_resume(const Make& make) {
  const Quadratic q({4, 3});
  Tensor p = q.parameter();
  std::unique_ptr<Optimizer> opt = make({p});
  take_steps(q, p, *opt, 3);
  NamedTensors saved;
  for (const auto& [name, t] : opt->state_tensors()) saved.emplace_back(name, clone(t));
  const Values at_save = p.to_vector<double>();
  take_steps(q, p, *opt, 3);

  Tensor resumed = from_vector<double>(at_save, q.shape).set_requires_grad();
  std::unique_ptr<Optimizer> fresh = make({resumed});
  fresh->load_state_tensors(saved);
  EXPECT_EQ(fresh->step_count, 3);
  take_steps(q, resumed, *fresh, 3);
  EXPECT_EQ(resumed.to_vector<double>(), p.to_vector<double>());
}

TEST(Optimizer, StateRoundTripsExactlyForEveryOptimizer) {
  const std::vector<Make> makers = {
      [](std::vector<Tensor> ps) { return std::make_unique<SGD>(ps, SgdOptions{.lr = 0.1, .momentum = 0.9}); },
      [](std::vector<Tensor> ps) { return std::make_unique<Adam>(ps, AdamOptions{.lr = 0.1}); },
      [](std::vector<Tensor> ps) { return std::make_unique<AdamW>(ps, AdamOptions{.lr = 0.1, .weight_decay = 0.1}); },
#ifdef EMBER_HAVE_LAPACKE
      [](std::vector<Tensor> ps) {
        return std::make_unique<Shampoo>(ps, ShampooOptions{.lr = 0.1, .beta2 = 0.9, .precondition_frequency = 2});
      },
#endif
  };
  for (const Make& make : makers) {
    expect_exact_resume([&](std::vector<Tensor> ps) {
      std::unique_ptr<Optimizer> opt = make(ps);
      opt->set_schedule(linear_decay(10, 2));  // the schedule resumes from the restored step_count
      return opt;
    });
  }
}

TEST(Optimizer, StateTensorsAreNamedByParameterIndex) {
  Tensor a = ones({2}).set_requires_grad(), b = ones({3}).set_requires_grad();
  Adam opt({a, b});
  b.set_grad(ones({3}));
  opt.step();  // a has no gradient: it is skipped and gets no state
  std::vector<std::string> names;
  for (const auto& [name, t] : opt.state_tensors()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"step_count", "1.step", "1.exp_avg", "1.exp_avg_sq"}));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ(opt.state_tensors()[1].second.item(), 1);

  expect_error([&] { opt.load_state_tensors({{"7.exp_avg", ones({2})}}); },
               "Adam: state '7.exp_avg' names parameter 7 but there are 2");
  expect_error([&] { opt.load_state_tensors({{"exp_avg", ones({2})}}); }, "is not of the form <parameter index>.<state>");
}

// Incomplete or ill-shaped state is refused whole, before anything changes: a missing exp_avg or
// step used to restart Adam silently, a wrong shape or dtype or a step <= 0 to fail only at the
// next step().
TEST(Optimizer, IncompleteOrIllFormedStateIsRefusedBeforeAnythingChanges) {
  Tensor a = ones({2}).set_requires_grad();
  Adam opt({a});
  a.set_grad(ones({2}));
  opt.step();
  const NamedTensors good = opt.state_tensors();
  const Tensor before = clone(opt.state_tensors()[2].second);
  auto without = [&](const std::string& drop) {
    NamedTensors out;
    for (const auto& [n, t] : good)
      if (n != drop) out.emplace_back(n, clone(t));
    return out;
  };
  auto with = [&](const std::string& name, Tensor value) {
    NamedTensors out = without(name);
    out.emplace_back(name, value);
    return out;
  };
  const Tensor i64 = scalar(1, {.dtype = DType::I64});
  const std::vector<std::pair<NamedTensors, std::string>> cases = {
      {without("0.exp_avg"), "Adam: state '0.exp_avg' is missing"},
      {without("0.exp_avg_sq"), "state '0.exp_avg_sq' is missing"},
      {without("0.step"), "state '0.step' is missing"},
      {without("step_count"), "has no 'step_count'"},
      {with("0.exp_avg", zeros({3})), "state '0.exp_avg' is f32 [3] but parameter 0 is f32 [2]"},
      {with("0.exp_avg", zeros({2}, {.dtype = DType::F64})), "is f64 [2] but parameter 0 is f32 [2]"},
      {with("0.step", scalar(0, {.dtype = DType::I64})), "state '0.step' is 0, outside [1, step_count = 1]"},
      {with("0.step", scalar(-3, {.dtype = DType::I64})), "outside [1, step_count"},
      {with("0.step", scalar(5, {.dtype = DType::I64})), "outside [1, step_count = 1]"},
      {with("0.step", zeros({})), "not an i64 scalar"},
      {with("step_count", scalar(-1, {.dtype = DType::I64})), "'step_count' is -1, negative"},
      {with("0.momentum", zeros({2})), "unexpected state '0.momentum'"},
  };
  for (const auto& [state, problem] : cases) {
    SCOPED_TRACE(problem);
    expect_error([&] { opt.check_state_tensors(state); }, problem);
    expect_error([&] { opt.load_state_tensors(state); }, problem);
    EXPECT_EQ(opt.step_count, 1);
    EXPECT_EQ(opt.state_tensors().size(), good.size());
    EXPECT_EQ(opt.state_tensors()[2].second.to_vector<float>(), before.to_vector<float>());
  }
  opt.load_state_tensors(good);  // the complete state loads
  SGD sgd({a}, {.momentum = 0.9});
  expect_error([&] { sgd.load_state_tensors({{"step_count", i64}, {"0.step", i64}}); },
               "SGD: state '0.momentum_buffer' is missing");
}

TEST(Optimizer, GroupsHaveTheirOwnLearningRateAndWeightDecay) {
  Tensor a = full({2}, 1.0).set_requires_grad(), b = full({2}, 1.0).set_requires_grad();
  SGD opt({{.params = {a}}, {.params = {b}, .lr = 0.5, .weight_decay = 0.0}}, {.lr = 0.1, .weight_decay = 1.0});
  a.set_grad(ones({2}));
  b.set_grad(ones({2}));
  opt.step();
  EXPECT_NEAR(a.to_vector<double>()[0], 1 - 0.1 * (1 + 1.0), 1e-7);
  EXPECT_NEAR(b.to_vector<double>()[0], 1 - 0.5 * 1, 1e-7);
  EXPECT_EQ(*opt.param_groups()[0].lr, 0.1);
}

TEST(Optimizer, ZeroGradDropsOrZeroesAndStepBumpsTheVersion) {
  Tensor p = ones({3}).set_requires_grad();
  SGD opt({p});
  p.set_grad(ones({3}));
  opt.zero_grad(false);
  EXPECT_EQ(p.grad().to_vector<float>(), (std::vector<float>{0, 0, 0}));
  const uint64_t version = p.version();
  opt.step();
  EXPECT_GT(p.version(), version);
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  EXPECT_EQ(opt.step_count, 1);
}

TEST(Optimizer, RejectsParametersItCannotUpdate) {
  Tensor p = ones({2, 3}).set_requires_grad();
  expect_error([] { SGD(std::vector<Tensor>{}); }, "SGD: got an empty parameter list");
  expect_error([&] { SGD({p, p}); }, "SGD: parameter 1 of shape [2,3] appears more than once");
  expect_error([&] { Adam({p * 2.0}); }, "Adam: parameter 0 of shape [2,3] is not a leaf");
  expect_error([] { Adam({zeros({2}, {.dtype = DType::I64})}); }, "only floating tensors can be optimized");
  expect_error([&] { SGD({detach(transpose(p, 0, 1))}); }, "SGD: parameter 0 of shape [3,2] is not contiguous");
  SGD opt({p});
  p.set_grad(ones({3, 2}));
  expect_error([&] { opt.step(); }, "SGD: parameter 0 is f32 [2,3] on cpu but its gradient is f32 [3,2] on cpu");
}

TEST(Optimizer, NonContiguousGradientsAreAccepted) {
  Tensor p = zeros({2, 3}).set_requires_grad();
  SGD opt({p}, {.lr = 1.0});
  p.set_grad(transpose(from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2}), 0, 1));
  opt.step();
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{-1, -3, -5, -2, -4, -6}));
}

}  // namespace
}  // namespace ember
