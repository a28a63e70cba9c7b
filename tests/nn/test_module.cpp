// Module: naming, counting, state dicts, train/eval, dtype conversion and zero_grad.
#include <algorithm>
#include <sstream>

#include "nn/nn.h"
#include "tests/testing.h"

namespace ember {
namespace {

using nn::Linear;
using nn::Sequential;

std::vector<std::string> names_of(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

// A test module that registers whatever it is told to.
struct Custom : nn::Module {
  Custom() : Module("Custom") {}
  using Module::register_buffer;
  using Module::register_module;
  using Module::register_parameter;
};

std::shared_ptr<Sequential> small_net() {
  auto inner = std::make_shared<Sequential>(std::initializer_list<nn::ModulePtr>{std::make_shared<Linear>(4, 2)});
  return std::make_shared<Sequential>(std::initializer_list<nn::ModulePtr>{
      std::make_shared<Linear>(3, 4), std::make_shared<nn::ReLU>(), std::make_shared<nn::BatchNorm1d>(4), inner});
}

using ::ember::testing::expect_error;

TEST(Module, LinearHasSixteenParameters) {
  Linear lin(3, 4);
  EXPECT_EQ(lin.num_parameters(), 16);
  EXPECT_EQ(names_of(lin.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(lin.weight().shape(), (Shape{4, 3}));
  EXPECT_TRUE(lin.weight().requires_grad());
  EXPECT_EQ(Linear(3, 4, false).num_parameters(), 12);
}

TEST(Module, DottedNamesFollowTheTree) {
  auto net = small_net();
  EXPECT_EQ(names_of(net->named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "3.0.weight", "3.0.bias"}));
  EXPECT_EQ(names_of(net->named_buffers()), (std::vector<std::string>{"2.running_mean", "2.running_var"}));
  EXPECT_EQ(net->num_parameters(), 16 + 8 + 10);
  EXPECT_EQ(net->parameters().size(), 6u);
  std::vector<std::string> modules;
  for (const auto& [name, m] : net->named_modules()) modules.push_back(name + "=" + m->describe());
  EXPECT_EQ(modules, (std::vector<std::string>{"0=Linear(3, 4)", "1=ReLU()", "2=BatchNorm1d(4)", "3=Sequential",
                                               "3.0=Linear(4, 2)"}));
  std::vector<std::string> keys;
  for (const auto& [k, v] : net->state_dict()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"0.bias", "0.weight", "2.bias", "2.running_mean", "2.running_var", "2.weight",
                                            "3.0.bias", "3.0.weight"}));
}

TEST(Module, SharedChildParametersAreListedOnce) {
  Custom m;
  auto lin = std::make_shared<Linear>(2, 2);
  m.register_module("a", lin);
  m.register_module("b", lin);
  EXPECT_EQ(names_of(m.named_parameters()), (std::vector<std::string>{"a.weight", "a.bias"}));
  EXPECT_EQ(m.state_dict().size(), 4u);
}

TEST(Module, RegistrationRejectsBadNames) {
  Custom m;
  m.register_parameter("w", zeros({2}));
  expect_error([&] { m.register_buffer("w", zeros({2})); }, "Custom: buffer name 'w' is already registered");
  expect_error([&] { m.register_parameter("a.b", zeros({2})); }, "must be non-empty and contain no '.'");
  EXPECT_THROW(m.register_parameter("i", zeros({2}, {.dtype = DType::I64})), Error);
  EXPECT_THROW(m.register_module("c", nn::ModulePtr()), Error);
}

TEST(Module, ForwardOfAModuleWithoutOneThrows) {
  Custom m;
  expect_error([&] { m(ones({1})); }, "Custom: forward(Tensor) is not defined");
}

TEST(Module, StateDictRoundTripCopiesValues) {
  manual_seed(1);
  auto a = small_net();
  auto b = small_net();
  Tensor x = randn({5, 3});
  a->forward(x);  // moves a's running statistics away from their initial values
  a->eval();
  b->eval();
  EXPECT_NE(a->forward(x).to_vector<float>(), b->forward(x).to_vector<float>());
  std::vector<Tensor> handles = b->parameters();
  b->load_state_dict(a->state_dict());
  EXPECT_EQ(a->forward(x).to_vector<float>(), b->forward(x).to_vector<float>());
  EXPECT_TRUE(handles[0].is_same(b->parameters()[0]));  // loaded in place
  {
    NoGradGuard no_grad;
    fill_(a->parameters()[0], 7.0);
  }
  EXPECT_NE(b->parameters()[0].to_vector<float>()[0], 7.0f);  // copies, not shared tensors
}

TEST(Module, LoadStateDictConvertsDtype) {
  Linear a(2, 3), b(2, 3);
  nn::StateDict state = a.state_dict();
  for (auto& [name, t] : state) t = to(t, DType::F64);
  b.load_state_dict(state);
  EXPECT_EQ(b.weight().dtype(), DType::F32);
  EXPECT_EQ(b.weight().to_vector<float>(), a.weight().to_vector<float>());
}

// i64 or bool data into float weights is a wrong file, not a conversion: refused unless asked.
TEST(Module, LoadStateDictRefusesAChangeOfKindUnlessAsked) {
  Linear a(2, 3), b(2, 3);
  for (DType kind : {DType::I64, DType::Bool}) {
    const std::vector<float> before = b.weight().to_vector<float>();
    nn::StateDict state = a.state_dict();
    state["weight"] = to(state["weight"], kind);
    try {
      b.load_state_dict(state);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'weight' is " + std::string(kind == DType::I64 ? "i64" : "bool") +
                                           " in the state dict but f32 in the model"),
                std::string::npos)
          << e.what();
    }
    EXPECT_EQ(b.weight().to_vector<float>(), before);
    b.load_state_dict(state, true, /*allow_dtype_change=*/true);
    EXPECT_EQ(b.weight().dtype(), DType::F32);
  }
}

// Every error leaves the model exactly as it was.
class LoadStateDictErrors : public ::testing::Test {
 protected:
  void expect_rejected(const nn::StateDict& state, bool strict, const std::string& text) {
    std::vector<std::vector<float>> before;
    for (const auto& [k, v] : net->state_dict()) before.push_back(v.to_vector<float>());
    expect_error([&] { net->load_state_dict(state, strict); }, text);
    size_t i = 0;
    for (const auto& [k, v] : net->state_dict()) EXPECT_EQ(v.to_vector<float>(), before[i++]) << k;
  }
  // Another model's values, so that a partial load would show.
  nn::StateDict other() const {
    nn::StateDict state;
    for (const auto& [k, v] : small_net()->state_dict()) state[k] = v + 1.0;
    return state;
  }
  std::shared_ptr<Sequential> net = small_net();
};

TEST_F(LoadStateDictErrors, MissingKey) {
  nn::StateDict state = other();
  state.erase("3.0.bias");
  expect_rejected(state, true, "load_state_dict: Sequential: missing key '3.0.bias' (nothing was loaded)");
}

TEST_F(LoadStateDictErrors, ShapeMismatchNamesKeyAndShapes) {
  nn::StateDict state = other();
  state["3.0.weight"] = zeros({3, 4});
  expect_rejected(state, true, "'3.0.weight' has shape [3,4] in the state dict but [2,4] in the model");
  expect_rejected(state, false, "'3.0.weight' has shape [3,4]");
}

TEST_F(LoadStateDictErrors, UnexpectedKeyAndAllProblemsListed) {
  nn::StateDict state = other();
  state["4.weight"] = zeros({1});
  state.erase("0.bias");
  expect_rejected(state, true, "missing key '0.bias'; unexpected key '4.weight'");
}

TEST_F(LoadStateDictErrors, NonStrictSkipsMissingAndUnexpected) {
  nn::StateDict state = other();
  state.erase("0.bias");
  state["extra"] = zeros({1});
  std::vector<float> bias = net->state_dict().at("0.bias").to_vector<float>();
  net->load_state_dict(state, false);
  EXPECT_EQ(net->state_dict().at("0.bias").to_vector<float>(), bias);
  EXPECT_EQ(net->state_dict().at("0.weight").to_vector<float>(), state.at("0.weight").to_vector<float>());
}

TEST(Module, TrainAndEvalReachEveryDescendant) {
  auto net = small_net();
  EXPECT_TRUE(net->is_training());
  net->eval();
  EXPECT_FALSE(net->is_training());
  for (const auto& [name, child] : net->named_children()) EXPECT_FALSE(child->is_training()) << name;
  EXPECT_FALSE((*net->at<Sequential>(3))[0]->is_training());
  net->train();
  EXPECT_TRUE((*net->at<Sequential>(3))[0]->is_training());
}

TEST(Module, DropoutFollowsTheMode) {
  manual_seed(3);
  nn::Dropout drop(0.5);
  Tensor x = ones({1000});
  std::vector<float> y = drop(x).to_vector<float>();
  int64_t zeros_seen = std::count(y.begin(), y.end(), 0.0f);
  EXPECT_GT(zeros_seen, 400);
  EXPECT_LT(zeros_seen, 600);
  EXPECT_EQ(std::count(y.begin(), y.end(), 2.0f), 1000 - zeros_seen);
  drop.eval();
  EXPECT_EQ(drop(x).to_vector<float>(), x.to_vector<float>());
}

TEST(Module, ToDtypeKeepsHandlesAndConvertsGradients) {
  auto net = small_net();
  std::vector<Tensor> params = net->parameters();
  backward(sum(net->forward(randn({4, 3}))));
  ASSERT_TRUE(params[0].grad().defined());
  std::vector<float> w = params[0].to_vector<float>();
  net->to(DType::F64);
  EXPECT_EQ(params[0].dtype(), DType::F64);
  EXPECT_EQ(params[0].grad().dtype(), DType::F64);
  EXPECT_EQ(net->named_buffers()[0].second.dtype(), DType::F64);
  EXPECT_TRUE(params[0].requires_grad());
  EXPECT_TRUE(params[0].is_leaf());
  std::vector<double> w64 = params[0].to_vector<double>();
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w64[i], static_cast<double>(w[i]));
  EXPECT_EQ(net->forward(randn({2, 3}, {.dtype = DType::F64})).dtype(), DType::F64);
  net->to(Device::cpu());
  EXPECT_TRUE(params[0].is_same(net->parameters()[0]));
  expect_error([&] { net->to(DType::I64); }, "Sequential: to(i64): modules convert to floating dtypes only");
}

TEST(Module, ZeroGradDropsOrZeroes) {
  Linear lin(2, 2);
  backward(sum(lin(ones({1, 2}))));
  ASSERT_TRUE(lin.weight().grad().defined());
  lin.zero_grad(false);
  EXPECT_EQ(lin.weight().grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
  lin.zero_grad();
  EXPECT_FALSE(lin.weight().grad().defined());
}

TEST(Module, PrintsTheTree) {
  std::ostringstream os;
  os << *small_net();
  EXPECT_EQ(os.str(),
            "Sequential {\n  (0): Linear(3, 4)\n  (1): ReLU()\n  (2): BatchNorm1d(4)\n"
            "  (3): Sequential {\n    (0): Linear(4, 2)\n  }\n}");
}

}  // namespace
}  // namespace ember
