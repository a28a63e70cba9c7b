#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/backward.h"
#include "autograd/grad_mode.h"
#include "tensor/creation.h"

namespace ember {
namespace {

// Address of element `linear` (row-major over x's shape) inside x's storage.
char* element_address(const Tensor& x, int64_t linear) {
  int64_t off = 0;
  for (size_t d = x.shape().size(); d-- > 0;) {
    off += (linear % x.shape()[d]) * x.strides()[d];
    linear /= x.shape()[d];
  }
  return static_cast<char*>(x.data_ptr()) + off * static_cast<int64_t>(dtype_size(x.dtype()));
}

double read_element(const Tensor& x, int64_t i) {
  double v;
  copy_bytes(&v, Device::cpu(), element_address(x, i), x.device(), sizeof v);
  return v;
}

void write_element(const Tensor& x, int64_t i, double v) {
  copy_bytes(element_address(x, i), x.device(), &v, Device::cpu(), sizeof v);
}

double contract(const Tensor& y, const std::vector<double>& weights) {
  std::vector<double> values = y.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < values.size(); ++i) s += values[i] * weights[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions options) {
  GradcheckResult result;
  for (const Tensor& x : inputs)
    if (x.requires_grad())
      check(x.dtype() == DType::F64, "gradcheck: inputs that require grad must be f64, got ", x.dtype(), " ", x.shape());
  for (const Tensor& x : inputs)
    if (x.requires_grad() && x.is_leaf()) x.set_grad(Tensor());

  Tensor y = f(inputs);
  check(y.requires_grad(), "gradcheck: the output does not depend on any input that requires grad");
  Tensor weights = randn(y.shape(), {.dtype = DType::F64, .device = y.device()});
  std::vector<double> w = weights.to_vector<double>();
  backward(y, weights);

  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    // For a non-leaf view input, the gradient lands on its base leaf; tests pass leaves.
    std::vector<double> analytic = x.grad().defined() ? x.grad().to_vector<double>()
                                                      : std::vector<double>(static_cast<size_t>(x.numel()), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = read_element(x, i);
      write_element(x, i, orig + options.eps);
      const double plus = contract(f(inputs), w);
      write_element(x, i, orig - options.eps);
      const double minus = contract(f(inputs), w);
      write_element(x, i, orig);
      const double numeric = (plus - minus) / (2 * options.eps);
      const double a = analytic[static_cast<size_t>(i)];
      const double err = std::abs(a - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (result.ok && !(err <= options.atol + options.rtol * std::abs(numeric))) {
        result.ok = false;
        std::ostringstream os;
        os << "input " << k << " " << x.shape() << ", element " << i << ": analytic " << a << ", numeric " << numeric;
        result.message = os.str();
      }
    }
  }
  return result;
}

}  // namespace ember
