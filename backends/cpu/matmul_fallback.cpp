// The portable matmul. c is first packed into contiguous compute_t rows, so the inner loop is
// unit-stride and vectorises whatever c's layout (transposed, broadcast) and bf16 is widened
// once. Each task then owns a block of output rows and accumulates a tile of them over the
// whole K in compute_t before rounding to T once.
#include "backends/cpu/matmul_fallback.h"

#include <algorithm>
#include <vector>

#include "backends/cpu/strided.h"

namespace ember::cpu {
namespace {

// A register tile of out: kRows rows by two 256-bit vectors of columns (12 accumulators).
constexpr int64_t kRows = 6;
template <typename C>
constexpr int64_t kCols = 64 / static_cast<int64_t>(sizeof(C));

template <typename T>
void run(const Tensor& a, const Tensor& c, const Tensor& out) {
  using C = compute_t<T>;
  const int64_t B = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
  if (B * M * N == 0) return;
  const Strides &sa = a.strides(), &sc = c.strides(), &so = out.strides();
  const T* ap = a.data<T>();
  const T* cp = c.data<T>();
  T* op = out.data<T>();
  const bool parallel = B * M * N * K >= kParallelGrain;

  // A broadcast c is packed once for all batches.
  const int64_t packs = sc[0] == 0 ? 1 : B;
  std::vector<C> panel(static_cast<size_t>(packs * K * N));
#pragma omp parallel for collapse(2) if (parallel)
  for (int64_t p = 0; p < packs; ++p)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j)
        panel[static_cast<size_t>((p * K + k) * N + j)] = static_cast<C>(cp[p * sc[0] + k * sc[1] + j * sc[2]]);

  const int64_t row_blocks = (M + kRows - 1) / kRows;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t rb = 0; rb < row_blocks; ++rb) {
      const int64_t i0 = rb * kRows;
      const T* arow = ap + b * sa[0] + i0 * sa[1];
      const C* pc = panel.data() + (packs == 1 ? 0 : b) * K * N;
      // Inlined twice: with constant bounds for full tiles, which the compiler keeps in
      // registers, and with the ragged bounds of the last rows and columns.
      auto tile = [&](int64_t j0, int64_t rows, int64_t cols) __attribute__((always_inline)) {
        C acc[kRows * kCols<C>] = {};
        for (int64_t k = 0; k < K; ++k) {
          const C* crow = pc + k * N + j0;
          for (int64_t r = 0; r < rows; ++r) {
            const C av = static_cast<C>(arow[r * sa[1] + k * sa[2]]);
#pragma omp simd
            for (int64_t j = 0; j < cols; ++j) acc[r * kCols<C> + j] += av * crow[j];
          }
        }
        T* orow = op + b * so[0] + i0 * so[1] + j0 * so[2];
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < cols; ++j) orow[r * so[1] + j * so[2]] = static_cast<T>(acc[r * kCols<C> + j]);
      };
      const int64_t rows = std::min(kRows, M - i0);
      for (int64_t j0 = 0; j0 < N; j0 += kCols<C>) {
        const int64_t cols = std::min(kCols<C>, N - j0);
        if (rows == kRows && cols == kCols<C>) tile(j0, kRows, kCols<C>);
        else tile(j0, rows, cols);
      }
    }
  }
}

}  // namespace

void matmul_fallback(const Tensor& a, const Tensor& c, const Tensor& out) {
  dispatch_floating(out.dtype(), "matmul", [&]<typename T>() { run<T>(a, c, out); });
}

}  // namespace ember::cpu
