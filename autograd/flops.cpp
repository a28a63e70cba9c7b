#include "autograd/flops.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace ember {
namespace {

// Per thread: the counters alive, the module scopes open, whether backward() is running.
struct ThreadState {
  std::vector<FlopCounter*> counters;
  std::vector<FlopModulePath> modules;
  bool backward = false;
};

ThreadState& state() {
  thread_local ThreadState s;
  return s;
}

std::string format_flops(double flops) {
  const char* units[] = {"", "K", "M", "G", "T", "P"};
  size_t u = 0;
  while (flops >= 1000 && u + 1 < std::size(units)) {
    flops /= 1000;
    ++u;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f %s", flops, units[u]);
  return buffer;
}

}  // namespace

FlopCounter::FlopCounter() { state().counters.push_back(this); }

FlopCounter::~FlopCounter() {
  // Counters are scope guards: destroyed on the thread that made them, in any order.
  auto& counters = state().counters;
  if (auto it = std::find(counters.begin(), counters.end(), this); it != counters.end()) counters.erase(it);
}

double FlopCounter::total() const {
  std::lock_guard lock(mutex_);
  return forward_ + backward_;
}

double FlopCounter::forward_total() const {
  std::lock_guard lock(mutex_);
  return forward_;
}

double FlopCounter::backward_total() const {
  std::lock_guard lock(mutex_);
  return backward_;
}

std::map<std::string, double> FlopCounter::by_op() const {
  std::lock_guard lock(mutex_);
  return by_op_;
}

std::map<std::string, double> FlopCounter::by_module() const {
  std::lock_guard lock(mutex_);
  return by_module_;
}

void FlopCounter::reset() {
  std::lock_guard lock(mutex_);
  forward_ = backward_ = 0;
  by_op_.clear();
  by_module_.clear();
}

void FlopCounter::add(const char* op, double flops, bool backward, const std::string* module) {
  std::lock_guard lock(mutex_);
  (backward ? backward_ : forward_) += flops;
  by_op_[op] += flops;
  if (!module) return;
  // The module and each enclosing one: "a.b.c", "a.b", "a", then the outermost "".
  std::string path = *module;
  while (!path.empty()) {
    by_module_[path] += flops;
    const size_t dot = path.rfind('.');
    path.resize(dot == std::string::npos ? 0 : dot);
  }
  by_module_[""] += flops;
}

std::string FlopCounter::table() const {
  std::lock_guard lock(mutex_);
  std::string out = "FLOPs  total " + format_flops(forward_ + backward_) + "  forward " + format_flops(forward_) +
                    "  backward " + format_flops(backward_) + "\n";
  for (const auto& [op, flops] : by_op_) out += "  " + op + std::string(16 - std::min<size_t>(op.size(), 15), ' ') + format_flops(flops) + "\n";
  if (by_module_.empty()) return out;
  out += "by module\n";
  // Map order puts a module right before its children ("a" < "a.b" < "a.b.c" < "a2").
  for (const auto& [path, flops] : by_module_) {
    const auto depth = static_cast<size_t>(std::count(path.begin(), path.end(), '.')) + (path.empty() ? 0 : 1);
    const std::string name = path.empty() ? "(model)" : path.substr(path.rfind('.') + 1);
    out += std::string(2 + 2 * depth, ' ') + name + "  " + format_flops(flops) + "\n";
  }
  return out;
}

bool counting_flops() { return !state().counters.empty(); }

void count_flops(const char* op, double flops) {
  ThreadState& s = state();
  if (s.counters.empty()) return;
  const std::string* module = s.modules.empty() ? nullptr : s.modules.back().get();
  for (FlopCounter* c : s.counters) c->add(op, flops, s.backward, module);
}

double unary_flops(UnaryOp op) {
  switch (op) {
    case UnaryOp::Sigmoid: return 4;   // negate, exp, add 1, divide
    case UnaryOp::GeluErf: return 5;   // scale, erf, add 1, halve, multiply by x
    case UnaryOp::GeluTanh: return 9;  // x^3 (2), scale, add, scale, tanh, add 1, halve, multiply
    case UnaryOp::Silu: return 5;      // sigmoid, multiply
    case UnaryOp::Softplus: return 3;  // exp, add 1, log
    case UnaryOp::Affine:              // multiply, add
    case UnaryOp::Clamp:               // two compares
    case UnaryOp::LeakyRelu: return 2;  // compare, multiply
    case UnaryOp::GeluErfGrad: return 10;   // Phi(x) (4) + x phi(x) (5) + add
    case UnaryOp::GeluTanhGrad: return 15;  // tanh of the inner term (6), its square and derivative terms (9)
    default: return 1;  // one arithmetic op or one transcendental function
  }
}

double binary_flops(BinaryOp) { return 1; }

FlopModulePath current_flop_module() {
  const auto& modules = state().modules;
  return modules.empty() ? nullptr : modules.back();
}

FlopModuleScope::FlopModuleScope(FlopModulePath path) { state().modules.push_back(std::move(path)); }
FlopModuleScope::~FlopModuleScope() { state().modules.pop_back(); }

FlopBackwardScope::FlopBackwardScope() : previous_(state().backward) { state().backward = true; }
FlopBackwardScope::~FlopBackwardScope() { state().backward = previous_; }

}  // namespace ember
