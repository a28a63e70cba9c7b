#pragma once
// What the layer files share: the text describe() shows and the checks of constructor
// arguments and inputs, so every layer's errors read alike.
#include <initializer_list>
#include <sstream>
#include <string>

#include "tensor/tensor.h"

namespace ember::nn {

// "Name(a, b, c)"; empty string arguments are left out (for flags shown only when set).
template <typename... Args>
std::string describe_call(const char* name, const Args&... args) {
  std::ostringstream os;
  os << name << "(";
  bool first = true;
  auto part = [&](const auto& a) {
    std::ostringstream one;
    one << a;
    if (one.str().empty()) return;
    os << (first ? "" : ", ") << one.str();
    first = false;
  };
  (part(args), ...);
  os << ")";
  return os.str();
}

inline void check_positive(const std::string& layer, std::initializer_list<int64_t> sizes) {
  for (int64_t s : sizes) check(s > 0, layer, ": sizes must be positive");
}

// Throws unless x has `rank` dims and `channels` at dim 1 (channels < 0: any).
inline void check_input(const std::string& layer, const Tensor& x, int64_t rank, const char* layout, int64_t channels = -1) {
  check(x.dim() == rank, layer, ": input ", x.shape(), " must be ", layout);
  check(channels < 0 || x.size(1) == channels, layer, ": input ", x.shape(), " has ", x.size(1), " channels, expected ",
        channels);
}

}  // namespace ember::nn
