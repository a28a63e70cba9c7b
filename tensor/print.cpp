#include <iomanip>

#include "tensor/tensor.h"

namespace ember {
namespace {

// Prints nested brackets like PyTorch, eliding the middle of long dimensions.
void print_level(std::ostream& os, const std::vector<double>& v, const Shape& shape, size_t d, int64_t base,
                 int indent, bool integral) {
  const int64_t n = shape[d];
  int64_t inner = 1;
  for (size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
  os << "[";
  for (int64_t i = 0; i < n; ++i) {
    if (n > 8 && i == 3) {
      os << "...";
      i = n - 4;
      os << (d + 1 == shape.size() ? ", " : ",\n" + std::string(static_cast<size_t>(indent + 1), ' '));
      continue;
    }
    if (d + 1 == shape.size()) {
      double x = v[static_cast<size_t>(base + i)];
      if (integral) os << static_cast<int64_t>(x);
      else os << std::setprecision(4) << x;
    } else {
      print_level(os, v, shape, d + 1, base + i * inner, indent + 1, integral);
    }
    if (i + 1 < n) os << (d + 1 == shape.size() ? ", " : ",\n" + std::string(static_cast<size_t>(indent + 1), ' '));
  }
  os << "]";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "Tensor(undefined)";
  std::vector<double> v = t.to_vector<double>();
  bool integral = t.dtype() == DType::I64 || t.dtype() == DType::Bool;
  os << "Tensor(";
  if (t.dim() == 0) {
    if (integral) os << static_cast<int64_t>(v[0]);
    else os << v[0];
  } else if (t.numel() == 0) {
    os << "[]";
  } else {
    print_level(os, v, t.shape(), 0, 0, 7, integral);
  }
  os << ", shape=" << t.shape() << ", dtype=" << t.dtype();
  if (!t.device().is_cpu()) os << ", device=" << t.device();
  if (t.requires_grad()) os << ", requires_grad";
  return os << ")";
}

}  // namespace ember
