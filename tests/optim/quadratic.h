#pragma once
// The fixed problem the optimizer tests share, f(p) = 0.5 * sum_i a_i (p_i - c_i)^2 (convex,
// minimum at c, gradient a * (p - c)), and a runner that takes optimizer steps on it.
#include <cmath>
#include <memory>

#include "optim/optim.h"
#include "tests/testing.h"

namespace ember::testing {

using Values = std::vector<double>;

struct Quadratic {
  Shape shape;
  Values a, c;

  explicit Quadratic(Shape s) : shape(std::move(s)) {
    for (int64_t i = 0; i < numel_of(shape); ++i) {
      a.push_back(0.5 + 0.25 * static_cast<double>(i % 5));
      c.push_back(std::sin(1.0 + static_cast<double>(i)));
    }
  }

  // A starting point at distance about 1 from c in every coordinate.
  Values start() const {
    Values p;
    for (size_t i = 0; i < c.size(); ++i) p.push_back(c[i] + (i % 2 ? 1.0 : -0.8) + 0.05 * static_cast<double>(i % 7));
    return p;
  }

  Values grad(const Values& p) const {
    Values g(p.size());
    for (size_t i = 0; i < p.size(); ++i) g[i] = a[i] * (p[i] - c[i]);
    return g;
  }

  Tensor loss(const Tensor& p) const {
    const TensorOptions like{.dtype = p.dtype()};
    Tensor d = p - from_vector<double>(c, shape, like);
    return sum(from_vector<double>(a, shape, like) * d * d) * 0.5;
  }

  // Replaces p's gradient by the loss's, through the autograd engine.
  void backprop(const Tensor& p) const {
    p.set_grad(Tensor());
    backward(loss(p));
  }

  Tensor parameter(DType dtype = DType::F64) const {
    return from_vector<double>(start(), shape, {.dtype = dtype}).set_requires_grad();
  }
};

// `steps` steps of an optimizer made by make(params) on q, from q.start(); the final parameter.
template <typename Make>
Values run_steps(const Quadratic& q, int steps, Make make, DType dtype = DType::F64) {
  Tensor p = q.parameter(dtype);
  std::unique_ptr<Optimizer> opt = make(std::vector<Tensor>{p});
  for (int t = 0; t < steps; ++t) {
    q.backprop(p);
    opt->step();
  }
  return p.to_vector<double>();
}

inline double max_abs_diff(const Values& x, const Values& y) {
  EXPECT_EQ(x.size(), y.size());
  double m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}


}  // namespace ember::testing
