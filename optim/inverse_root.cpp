#include "optim/inverse_root.h"

#ifdef EMBER_HAVE_LAPACKE
#include <lapacke.h>
#endif

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"

namespace ember {

Tensor inverse_root(const Tensor& a, int root, double eps) {
  check(a.dim() == 2 && a.size(0) == a.size(1) && a.size(0) > 0, "inverse_root: expected a square matrix, got ",
        a.shape());
  check(root > 0 && eps >= 0, "inverse_root: need root > 0 and eps >= 0, got root ", root, " and eps ", eps);
#ifndef EMBER_HAVE_LAPACKE
  fail("inverse_root: this build has no LAPACK (install liblapacke-dev and rebuild); Shampoo needs it");
#else
  NoGradGuard no_grad;
  const Tensor host = contiguous(to(to(a, Device::cpu()), DType::F64));
  const auto n = static_cast<lapack_int>(a.size(0));
  const size_t n2 = static_cast<size_t>(n) * static_cast<size_t>(n);
  std::vector<double> q(host.data<double>(), host.data<double>() + n2);
  check(std::all_of(q.begin(), q.end(), [](double x) { return std::isfinite(x); }),
        "inverse_root: the ", a.shape(), " matrix has non-finite entries");
  std::vector<double> eigenvalues(static_cast<size_t>(n));
  const lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, q.data(), n, eigenvalues.data());
  check(info == 0, "inverse_root: the eigendecomposition of a ", a.shape(), " matrix failed (LAPACK info ", info, ")");

  // With D = Q diag(s^(1/2)) the root Q diag(s) Q^T is D D^T: symmetric by construction, and
  // its entries are dot products of contiguous rows.
  std::vector<double> half_power(static_cast<size_t>(n));
  for (size_t k = 0; k < half_power.size(); ++k)
    half_power[k] = std::pow(std::max(eigenvalues[k], 0.0) + eps, -0.5 / root);
  for (size_t i = 0; i < n2; ++i) q[i] *= half_power[i % half_power.size()];
  const int64_t m = n;
  Tensor out = empty({m, m}, {.dtype = DType::F64});
  double* o = out.data<double>();
  const double* d = q.data();
#pragma omp parallel for schedule(dynamic, 8) if (m >= 64)
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t k = 0; k < m; ++k) dot += d[i * m + k] * d[j * m + k];
      o[i * m + j] = o[j * m + i] = dot;
    }
  }
  return to(to(out, a.dtype()), a.device());
#endif
}

}  // namespace ember
