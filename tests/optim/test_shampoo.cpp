#include <cmath>

#include "optim/inverse_root.h"
#include "tests/optim/quadratic.h"

namespace ember {
namespace {

using testing::max_abs_diff;
using testing::Quadratic;
using testing::run_steps;
using testing::Values;

// A dense row-major f64 matrix for the reference computations.
struct Matrix {
  int64_t rows = 0, cols = 0;
  Values v;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), v(static_cast<size_t>(r * c)) {}
  double& operator()(int64_t r, int64_t c) { return v[static_cast<size_t>(r * cols + c)]; }
  double operator()(int64_t r, int64_t c) const { return v[static_cast<size_t>(r * cols + c)]; }
};

Matrix product(const Matrix& a, const Matrix& b) {
  Matrix out(a.rows, b.cols);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t j = 0; j < b.cols; ++j)
      for (int64_t k = 0; k < a.cols; ++k) out(i, j) += a(i, k) * b(k, j);
  return out;
}

Matrix transposed(const Matrix& a) {
  Matrix out(a.cols, a.rows);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t j = 0; j < a.cols; ++j) out(j, i) = a(i, j);
  return out;
}

// (a + eps I)^(-1/4) by the cyclic Jacobi eigenvalue method: a route independent of LAPACK.
Matrix jacobi_inverse_fourth_root(Matrix a, double eps) {
  const int64_t n = a.rows;
  Matrix q(n, n);
  for (int64_t i = 0; i < n; ++i) q(i, i) = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) off += a(i, j) * a(i, j);
    if (off < 1e-40) break;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t r = p + 1; r < n; ++r) {
        if (a(p, r) == 0) continue;
        const double theta = (a(r, r) - a(p, p)) / (2 * a(p, r));
        const double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int64_t k = 0; k < n; ++k) {
          const double kp = a(k, p), kr = a(k, r);
          a(k, p) = c * kp - s * kr;
          a(k, r) = s * kp + c * kr;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double pk = a(p, k), rk = a(r, k);
          a(p, k) = c * pk - s * rk;
          a(r, k) = s * pk + c * rk;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double kp = q(k, p), kr = q(k, r);
          q(k, p) = c * kp - s * kr;
          q(k, r) = s * kp + c * kr;
        }
      }
    }
  }
  Matrix scaled = q;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k) scaled(i, k) *= std::pow(std::max(a(k, k), 0.0) + eps, -0.25);
  return product(scaled, transposed(q));
}

double norm(const Values& x) {
  double s = 0;
  for (double e : x) s += e * e;
  return std::sqrt(s);
}

// Shampoo written out densely in f64 for a parameter viewed as [rows, cols] (rows == 0: a
// vector, preconditioned diagonally).
Values reference_shampoo(const Quadratic& q, const ShampooOptions& o, int64_t rows, int64_t cols, int steps) {
  struct Block {
    int64_t r0, c0;
    Matrix g, left, right, left_root, right_root;
  };
  std::vector<Block> blocks;
  const int64_t b = o.max_preconditioner_dim;
  for (int64_t r0 = 0; r0 < rows; r0 += b) {
    for (int64_t c0 = 0; c0 < cols; c0 += b) {
      const int64_t h = std::min(b, rows - r0), w = std::min(b, cols - c0);
      blocks.push_back({r0, c0, Matrix(h, w), Matrix(h, h), Matrix(w, w), Matrix(h, h), Matrix(w, w)});
    }
  }
  const double w = o.beta2 < 1 ? 1 - o.beta2 : 1;
  auto average = [&](Values& stat, const Values& x) {
    for (size_t i = 0; i < stat.size(); ++i) stat[i] = o.beta2 * stat[i] + w * x[i];
  };
  Values p = q.start(), buffer(p.size()), diagonal(p.size()), graft_sq(p.size());
  for (int t = 1; t <= steps; ++t) {
    Values g = q.grad(p), g2(p.size()), d(p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      g[i] += o.weight_decay * p[i];
      g2[i] = g[i] * g[i];
    }
    if (rows == 0) {
      average(diagonal, g2);
      for (size_t i = 0; i < p.size(); ++i) d[i] = g[i] / std::sqrt(diagonal[i] + o.epsilon);
    }
    for (Block& k : blocks) {
      for (int64_t i = 0; i < k.g.rows; ++i)
        for (int64_t j = 0; j < k.g.cols; ++j) k.g(i, j) = g[static_cast<size_t>((k.r0 + i) * cols + k.c0 + j)];
      average(k.left.v, product(k.g, transposed(k.g)).v);
      average(k.right.v, product(transposed(k.g), k.g).v);
      if ((t - 1) % o.precondition_frequency == 0) {
        k.left_root = jacobi_inverse_fourth_root(k.left, o.epsilon);
        k.right_root = jacobi_inverse_fourth_root(k.right, o.epsilon);
      }
      const Matrix db = product(product(k.left_root, k.g), k.right_root);
      for (int64_t i = 0; i < db.rows; ++i)
        for (int64_t j = 0; j < db.cols; ++j) d[static_cast<size_t>((k.r0 + i) * cols + k.c0 + j)] = db(i, j);
    }
    double graft = norm(d);
    if (o.graft == Graft::SGD) graft = norm(g);
    if (o.graft == Graft::Adam) {
      average(graft_sq, g2);
      const double correction = o.beta2 < 1 ? 1 - std::pow(o.beta2, t) : 1;
      Values adam(p.size());
      for (size_t i = 0; i < p.size(); ++i) adam[i] = g[i] / (std::sqrt(graft_sq[i] / correction) + o.graft_epsilon);
      graft = norm(adam);
    }
    const double scale = graft / norm(d);
    for (size_t i = 0; i < p.size(); ++i) {
      double di = d[i] * scale;
      if (o.momentum != 0) {
        buffer[i] = t == 1 ? di : o.momentum * buffer[i] + di;
        di = o.nesterov ? di + o.momentum * buffer[i] : buffer[i];
      }
      p[i] -= o.lr * di;
    }
  }
  return p;
}

Values run_shampoo(const Quadratic& q, const ShampooOptions& o, int steps, DType dtype = DType::F64) {
  return run_steps(q, steps, [&](std::vector<Tensor> ps) { return std::make_unique<Shampoo>(ps, o); }, dtype);
}

TEST(InverseRoot, MatchesJacobiAndInvertsTheFourthPower) {
  SKIP_WITHOUT_LAPACK();
  for (int64_t n : {1, 4, 7}) {
    // A rank-deficient PSD matrix G G^T: eps carries the null space.
    Tensor g = randn({n, 2}, {.dtype = DType::F64});
    Tensor a = matmul(g, transpose(g, 0, 1));
    const double eps = 1e-3;
    const Tensor root = inverse_root(a, 4, eps);
    Matrix dense(n, n);
    dense.v = a.to_vector<double>();
    EXPECT_LT(max_abs_diff(root.to_vector<double>(), jacobi_inverse_fourth_root(dense, eps).v), 1e-9);
    const Tensor shifted = a + eye(n, {.dtype = DType::F64}) * eps;
    const Tensor square = matmul(root, root);
    EXPECT_LT(max_abs_diff(matmul(matmul(square, square), shifted).to_vector<double>(),
                           eye(n, {.dtype = DType::F64}).to_vector<double>()),
              1e-9);
  }
  EXPECT_EQ(inverse_root(eye(3), 2, 0).dtype(), DType::F32);
  testing::expect_error([] { inverse_root(zeros({2, 3}), 4, 1e-6); }, "inverse_root: expected a square matrix, got [2,3]");
}

TEST(Shampoo, PlainPreconditionedStepMatchesDenseReference) {
  SKIP_WITHOUT_LAPACK();
  const Quadratic q({4, 3});
  const ShampooOptions o{.lr = 0.1, .momentum = 0, .epsilon = 1e-4, .graft = Graft::None};
  EXPECT_LT(max_abs_diff(run_shampoo(q, o, 3), reference_shampoo(q, o, 4, 3, 3)), 1e-10);
}

TEST(Shampoo, GraftingMomentumAveragingAndCachedRootsMatchReference) {
  SKIP_WITHOUT_LAPACK();
  const Quadratic q({3, 5});
  const std::vector<ShampooOptions> cases = {
      {.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01, .beta2 = 0.9, .precondition_frequency = 2},
      {.lr = 0.1, .momentum = 0.5, .beta2 = 1.0, .precondition_frequency = 3, .graft = Graft::SGD},
      {.lr = 0.02, .beta2 = 0.99, .epsilon = 1e-8, .graft = Graft::Adam, .graft_epsilon = 1e-6},
  };
  for (const ShampooOptions& o : cases) EXPECT_LT(max_abs_diff(run_shampoo(q, o, 5), reference_shampoo(q, o, 3, 5, 5)), 1e-10);
}

TEST(Shampoo, LargeDimensionsAreSplitIntoBlocks) {
  SKIP_WITHOUT_LAPACK();
  const Quadratic q({5, 3});
  const ShampooOptions o{.lr = 0.05, .beta2 = 0.95, .max_preconditioner_dim = 2, .graft = Graft::SGD};
  EXPECT_LT(max_abs_diff(run_shampoo(q, o, 4), reference_shampoo(q, o, 5, 3, 4)), 1e-10);

  Tensor p = q.parameter();
  Shampoo opt({p}, o);
  q.backprop(p);
  opt.step();
  int roots = 0;
  for (const auto& [name, t] : opt.state_tensors()) {
    if (name.ends_with("_root")) ++roots;
    if (name == "0.block5.left") {
      EXPECT_EQ(t.shape(), (Shape{1, 1}));  // the corner block: row 4, column 2
    }
  }
  EXPECT_EQ(roots, 12);  // 3 x 2 blocks, a left and a right root each
}

TEST(Shampoo, HigherRankParametersMergeTrailingDimsAndDropUnitDims) {
  SKIP_WITHOUT_LAPACK();
  const ShampooOptions o{.lr = 0.05, .beta2 = 0.9};
  const Quadratic cube({2, 3, 4}), unit({1, 4, 1, 3});
  EXPECT_LT(max_abs_diff(run_shampoo(cube, o, 3), reference_shampoo(cube, o, 2, 12, 3)), 1e-10);
  EXPECT_LT(max_abs_diff(run_shampoo(unit, o, 3), reference_shampoo(unit, o, 4, 3, 3)), 1e-10);
}

TEST(Shampoo, VectorsArePreconditionedDiagonally) {
  SKIP_WITHOUT_LAPACK();
  const Quadratic vector({6}), column({6, 1});
  for (Graft graft : {Graft::None, Graft::Adam}) {
    const ShampooOptions o{.lr = 0.05, .beta2 = 0.9, .graft = graft};
    EXPECT_LT(max_abs_diff(run_shampoo(vector, o, 4), reference_shampoo(vector, o, 0, 0, 4)), 1e-10);
    EXPECT_LT(max_abs_diff(run_shampoo(column, o, 4), reference_shampoo(column, o, 0, 0, 4)), 1e-10);
  }
}

TEST(Shampoo, FloatParametersMatchReference) {
  SKIP_WITHOUT_LAPACK();
  const Quadratic q({4, 3});
  const ShampooOptions o{.lr = 0.05, .beta2 = 0.9};
  EXPECT_LT(max_abs_diff(run_shampoo(q, o, 4, DType::F32), reference_shampoo(q, o, 4, 3, 4)), 1e-4);
}

TEST(Shampoo, ReachesTheMinimum) {
  SKIP_WITHOUT_LAPACK();
  const Quadratic q({4, 3});
  for (Graft graft : {Graft::None, Graft::SGD, Graft::Adam}) {
    Values p = run_steps(q, 400, [&](std::vector<Tensor> ps) {
      auto opt = std::make_unique<Shampoo>(ps, ShampooOptions{.lr = 0.1, .beta2 = 0.99, .graft = graft});
      opt->set_schedule(cosine_schedule(400));
      return opt;
    });
    EXPECT_LT(max_abs_diff(p, q.c), 1e-4) << "graft " << static_cast<int>(graft);
  }
}

TEST(Shampoo, RejectsBadHyperParameters) {
  SKIP_WITHOUT_LAPACK();
  Tensor p = zeros({2, 2}).set_requires_grad();
  testing::expect_error([&] { Shampoo({p}, {.beta2 = 0}); }, "Shampoo: beta2 must be in (0, 1]");
  testing::expect_error([&] { Shampoo({p}, {.epsilon = 0}); }, "Shampoo: epsilon must be positive");
  testing::expect_error([&] { Shampoo({p}, {.precondition_frequency = 0}); }, "precondition_frequency");
}

}  // namespace
}  // namespace ember
