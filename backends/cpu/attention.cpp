// Fused scaled dot-product attention on the CPU, flash-attention style, forward and backward.
//
// Why memory stays linear in T: neither pass forms the [Tq, Tk] score matrix. The forward takes
// kBlockQ query rows at a time and walks the keys kBlockK at a time, folding each tile of scores
// into a running max, sum and output accumulator per row (the online softmax). The backward
// recomputes each tile's probabilities from q, k and the saved per-row logsumexp. Besides the
// operands, a call holds per thread one tile of scores (kBlockQ x kBlockK) with its q / k / v
// blocks and, in the forward, one head's k and v (O(Tk * D)); then the rows of lse and
// D_i = rowsum(dO * O) (O(Tq)), and in the backward a dq accumulator per key chunk (O(Tq * D)).
#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/host_checks.h"
#include "backends/dense.h"
#include "backends/cpu/vec_math.h"
#include "tensor/random.h"

// The tile loops are bound by multiply-add throughput; GCC's tuning for recent x86 CPUs keeps
// to 256-bit vectors unless told otherwise (measured: about 15% faster here with 512-bit).
// Clang has no such pragma (its -mprefer-vector-width is a command-line flag only).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("prefer-vector-width=512")
#endif

namespace ember {
namespace {

constexpr int64_t kBlockQ = 32;  // query rows per tile
constexpr int64_t kBlockK = 64;  // keys per tile: every tile row is this wide, padded with -inf

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// One (b, h) matrix [T, cols] of a [B,H,T,cols] operand: rows `stride` apart, unit stride along cols.
template <typename T>
struct Rows {
  T* data = nullptr;
  int64_t stride = 0;
  T* row(int64_t i) const { return data + i * stride; }
};

template <typename T>
Rows<T> head(const Tensor& t, int64_t bh) {
  const int64_t b = bh / t.size(1), h = bh % t.size(1);
  return {static_cast<T*>(t.data_ptr()) + b * t.stride(0) + h * t.stride(1), t.stride(2)};
}

// One call's operands and options, the scalars in the compute type C.
template <typename C>
struct Problem {
  const Tensor &q, &k, &v, &mask;
  int64_t heads, tq, tk, d, dv;
  C scale;
  bool causal, dropout;
  float drop_p;  // compared with Philox's float uniforms, as dropout() does
  C keep_scale;
  uint64_t seed, offset;

  Problem(const Tensor& q_, const Tensor& k_, const Tensor& v_, const Tensor& mask_, const Backend::AttentionParams& p)
      : q(q_), k(k_), v(v_), mask(mask_), heads(q_.size(0) * q_.size(1)), tq(q_.size(2)), tk(k_.size(2)),
        d(q_.size(3)), dv(v_.size(3)), scale(static_cast<C>(p.scale)), causal(p.causal), dropout(p.dropout_p > 0),
        drop_p(static_cast<float>(p.dropout_p)),
        keep_scale(p.dropout_p < 1 ? static_cast<C>(1 / (1 - p.dropout_p)) : C(0)), seed(p.seed), offset(p.offset) {}

  // Threads pay off once the tiles hold enough multiply-adds.
  bool parallel(int64_t tasks) const { return tasks > 1 && heads * tq * tk * (d + dv) >= cpu::kParallelGrain; }
};

// dst[r][c] = src row (first + r), converted to C, for r < count.
template <typename T, typename C>
void load_rows(Rows<const T> src, int64_t first, int64_t count, int64_t cols, C* dst) {
  for (int64_t r = 0; r < count; ++r) {
    const T* s = src.row(first + r);
    C* o = dst + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) o[c] = static_cast<C>(s[c]);
  }
}

// dst[c][r] = src row (first + r) transposed into rows `width` long, zero past count.
template <typename T, typename C>
void load_columns(Rows<const T> src, int64_t first, int64_t count, int64_t cols, C* dst, int64_t width) {
  std::fill(dst, dst + cols * width, C(0));
  for (int64_t r = 0; r < count; ++r) {
    const T* s = src.row(first + r);
    for (int64_t c = 0; c < cols; ++c) dst[c * width + r] = static_cast<C>(s[c]);
  }
}

// s[i][j] = scale * (a_i . b_j) for a [rows, depth] and b given transposed, [depth, kBlockK] in
// rows ldb apart. The accumulators span whole tile rows, so the loop over keys vectorises
// without reductions, and kDotRows rows share each load of b (4 float rows fill half of
// AVX-512's registers).
template <typename C>
constexpr int64_t kDotRows = 16 / static_cast<int64_t>(sizeof(C));

template <int64_t R, typename C>
void dot_rows(const C* a, const C* bt, int64_t ldb, int64_t depth, C scale, C* s) {
  C acc[R][kBlockK] = {};
  for (int64_t c = 0; c < depth; ++c) {
    const C* b = bt + c * ldb;
    for (int64_t r = 0; r < R; ++r) {
      const C x = a[r * depth + c];
#pragma omp simd
      for (int64_t j = 0; j < kBlockK; ++j) acc[r][j] += x * b[j];
    }
  }
  for (int64_t r = 0; r < R; ++r) {
#pragma omp simd
    for (int64_t j = 0; j < kBlockK; ++j) s[r * kBlockK + j] = acc[r][j] * scale;
  }
}

template <typename C>
void dot_tile(const C* a, int64_t rows, const C* bt, int64_t ldb, int64_t depth, C scale, C* s) {
  int64_t i = 0;
  for (; i + kDotRows<C> <= rows; i += kDotRows<C>)
    dot_rows<kDotRows<C>>(a + i * depth, bt, ldb, depth, scale, s + i * kBlockK);
  for (; i < rows; ++i) dot_rows<1>(a + i * depth, bt, ldb, depth, scale, s + i * kBlockK);
}

// y[r] += sum_j a(r, j) x[j] for r < rows, j < n: the tile products P V, dS K, P^T dO and dS^T Q,
// with a(r, j) = a[r * a_row + j * a_col] (a tile or its transpose), x [n, width] and y rows
// y_row apart. kRows rows by kLane columns of y stay in registers while j runs, so each x load
// feeds kRows multiply-adds.
template <typename C>
constexpr int64_t kLane = 64 / static_cast<int64_t>(sizeof(C));
constexpr int64_t kRows = 4;

template <int64_t R, typename C>
void accumulate_rows(const C* a, int64_t a_row, int64_t a_col, int64_t n, const C* x, int64_t width, int64_t c0,
                     C* y, int64_t y_row) {
  C acc[R][kLane<C>];
  for (int64_t r = 0; r < R; ++r) {
#pragma omp simd
    for (int64_t w = 0; w < kLane<C>; ++w) acc[r][w] = y[r * y_row + c0 + w];
  }
  for (int64_t j = 0; j < n; ++j) {
    const C* xj = x + j * width + c0;
    for (int64_t r = 0; r < R; ++r) {
      const C coef = a[r * a_row + j * a_col];
#pragma omp simd
      for (int64_t w = 0; w < kLane<C>; ++w) acc[r][w] += coef * xj[w];
    }
  }
  for (int64_t r = 0; r < R; ++r) {
#pragma omp simd
    for (int64_t w = 0; w < kLane<C>; ++w) y[r * y_row + c0 + w] = acc[r][w];
  }
}

template <typename C>
void accumulate(const C* a, int64_t a_row, int64_t a_col, int64_t rows, int64_t n, const C* x, int64_t width, C* y,
                int64_t y_row) {
  const int64_t full = width / kLane<C> * kLane<C>;
  int64_t r = 0;
  for (; r + kRows <= rows; r += kRows)
    for (int64_t c0 = 0; c0 < full; c0 += kLane<C>)
      accumulate_rows<kRows>(a + r * a_row, a_row, a_col, n, x, width, c0, y + r * y_row, y_row);
  for (; r < rows; ++r)
    for (int64_t c0 = 0; c0 < full; c0 += kLane<C>)
      accumulate_rows<1>(a + r * a_row, a_row, a_col, n, x, width, c0, y + r * y_row, y_row);
  if (full == width) return;
  for (r = 0; r < rows; ++r) {  // the columns past the last full lane
    C* yr = y + r * y_row;
    for (int64_t j = 0; j < n; ++j) {
      const C coef = a[r * a_row + j * a_col];
      const C* xj = x + j * width;
#pragma omp simd
      for (int64_t c = full; c < width; ++c) yr[c] += coef * xj[c];
    }
  }
}

// Sets to -inf the scores of the tile (rows i0.., keys j0.., nk real keys) that a query does not
// see: padding past nk, keys after the query under causal, and keys the mask hides.
template <typename C>
void hide_tile(const Problem<C>& a, int64_t bh, int64_t i0, int64_t nq, int64_t j0, int64_t nk, C* s) {
  constexpr C kHidden = -std::numeric_limits<C>::infinity();
  const bool* mask = nullptr;
  int64_t row_stride = 0, col_stride = 0;
  if (a.mask.defined()) {
    const Rows<const bool> m = head<const bool>(a.mask, bh);
    mask = m.data + j0 * a.mask.stride(3);
    row_stride = m.stride;
    col_stride = a.mask.stride(3);
  }
  for (int64_t i = 0; i < nq; ++i) {
    C* si = s + i * kBlockK;
    const int64_t visible = a.causal ? std::clamp<int64_t>(i0 + i + 1 - j0, 0, nk) : nk;
    for (int64_t j = visible; j < kBlockK; ++j) si[j] = kHidden;
    if (!mask) continue;
    const bool* mi = mask + (i0 + i) * row_stride;
    for (int64_t j = 0; j < visible; ++j) si[j] = mi[j * col_stride] ? si[j] : kHidden;
  }
}

// z[i][j] = keep_scale where element (bh, i0 + i, j0 + j) of the virtual [BH, Tq, Tk] matrix
// survives dropout, else 0: philox_uniform's stream, with one Philox call per four elements.
template <typename C>
void dropout_tile(const Problem<C>& a, int64_t bh, int64_t i0, int64_t nq, int64_t j0, int64_t nk, C* z) {
  for (int64_t i = 0; i < nq; ++i) {
    const auto first = static_cast<uint64_t>((bh * a.tq + i0 + i) * a.tk + j0);
    Philox4 bits = philox4x32(first / 4, a.offset, a.seed);
    for (int64_t j = 0; j < nk; ++j) {
      const uint64_t e = first + static_cast<uint64_t>(j);
      if (j > 0 && e % 4 == 0) bits = philox4x32(e / 4, a.offset, a.seed);
      z[i * kBlockK + j] = uint_to_unit(bits.v[e % 4]) > a.drop_p ? a.keep_scale : C(0);
    }
  }
}

// Per-thread state of the forward: one head's k^T [D, Tk padded to whole tiles] and v [Tk, Dv],
// loaded once per head a thread works on (transposing k per tile would cost as much as a tile's
// multiply-adds), and one query block's q, scores, dropout factors, accumulators and running
// max and sum.
template <typename C>
struct ForwardTiles {
  int64_t head = -1, kt_width;
  std::vector<C> kt, v, q, s, z, acc, max, sum;
  explicit ForwardTiles(const Problem<C>& a)
      : kt_width(ceil_div(a.tk, kBlockK) * kBlockK), kt(static_cast<size_t>(a.d * kt_width)),
        v(static_cast<size_t>(a.tk * a.dv)), q(static_cast<size_t>(kBlockQ * a.d)),
        s(static_cast<size_t>(kBlockQ * kBlockK)), z(a.dropout ? s.size() : 0),
        acc(static_cast<size_t>(kBlockQ * a.dv)), max(kBlockQ), sum(kBlockQ) {}
};

// Folds one tile row of scores s into its query row's running max m and sum l (the online
// softmax), turning s into the weights of the value rows (dropout factors z applied, when
// given); returns the factor the row's output accumulator must be rescaled by.
template <typename C>
C fold_row(C* s, const C* z, C& m, C& l) {
  const C m_new = std::max(m, cpu::row_max(s, kBlockK));
  if (m_new == -std::numeric_limits<C>::infinity()) {  // no key seen yet: all weights 0
    std::fill(s, s + kBlockK, C(0));
    return C(1);
  }
  const C correction = cpu::vexp(m - m_new);
  C tile_sum = 0;
#pragma omp simd reduction(+ : tile_sum)
  for (int64_t j = 0; j < kBlockK; ++j) {
    s[j] = cpu::vexp(s[j] - m_new);
    tile_sum += s[j];
  }
  l = l * correction + tile_sum;
  m = m_new;
  if (z) {
#pragma omp simd
    for (int64_t j = 0; j < kBlockK; ++j) s[j] *= z[j];
  }
  return correction;
}

// Output rows i0.. (and their lse) of head bh.
template <typename T, typename C>
void forward_block(const Problem<C>& a, int64_t bh, int64_t i0, ForwardTiles<C>& w, T* out, C* lse) {
  const int64_t nq = std::min(kBlockQ, a.tq - i0);
  load_rows(head<const T>(a.q, bh), i0, nq, a.d, w.q.data());
  std::fill(w.acc.begin(), w.acc.end(), C(0));
  std::fill(w.max.begin(), w.max.end(), -std::numeric_limits<C>::infinity());
  std::fill(w.sum.begin(), w.sum.end(), C(0));
  if (w.head != bh) {
    load_columns(head<const T>(a.k, bh), 0, a.tk, a.d, w.kt.data(), w.kt_width);
    load_rows(head<const T>(a.v, bh), 0, a.tk, a.dv, w.v.data());
    w.head = bh;
  }
  // Under causal no row of the block sees a key past the block's last row.
  const int64_t key_end = a.causal ? std::min(a.tk, i0 + nq) : a.tk;
  for (int64_t j0 = 0; j0 < key_end; j0 += kBlockK) {
    const int64_t nk = std::min(kBlockK, key_end - j0);
    dot_tile(w.q.data(), nq, w.kt.data() + j0, w.kt_width, a.d, a.scale, w.s.data());
    hide_tile(a, bh, i0, nq, j0, nk, w.s.data());
    if (a.dropout) dropout_tile(a, bh, i0, nq, j0, nk, w.z.data());
    for (int64_t i = 0; i < nq; ++i) {
      const C correction = fold_row(w.s.data() + i * kBlockK, a.dropout ? w.z.data() + i * kBlockK : nullptr,
                                    w.max[static_cast<size_t>(i)], w.sum[static_cast<size_t>(i)]);
      if (correction == C(1)) continue;
      C* acc = w.acc.data() + i * a.dv;
#pragma omp simd
      for (int64_t c = 0; c < a.dv; ++c) acc[c] *= correction;
    }
    accumulate(w.s.data(), kBlockK, 1, nq, nk, w.v.data() + j0 * a.dv, a.dv, w.acc.data(), a.dv);
  }
  for (int64_t i = 0; i < nq; ++i) {
    const C l = w.sum[static_cast<size_t>(i)];
    const int64_t row = bh * a.tq + i0 + i;
    // A row that saw no key gets 0 and lse = -inf (its probabilities are all 0 in the backward).
    const C inv = l > 0 ? C(1) / l : C(0);
    lse[row] = l > 0 ? w.max[static_cast<size_t>(i)] + std::log(l) : -std::numeric_limits<C>::infinity();
    const C* acc = w.acc.data() + i * a.dv;
    T* o = out + row * a.dv;
#pragma omp simd
    for (int64_t c = 0; c < a.dv; ++c) o[c] = static_cast<T>(acc[c] * inv);
  }
}

// Per-thread tiles of the backward: one key block's k, k^T, v^T and its dk, dv accumulators,
// one query block's q and dO, and the score / dP / dropout tiles.
template <typename C>
struct BackwardTiles {
  std::vector<C> k, kt, vt, dk, dv, q, go, s, dp, z;
  explicit BackwardTiles(const Problem<C>& a)
      : k(static_cast<size_t>(kBlockK * a.d)), kt(k.size()), vt(static_cast<size_t>(kBlockK * a.dv)), dk(k.size()),
        dv(vt.size()), q(static_cast<size_t>(kBlockQ * a.d)), go(static_cast<size_t>(kBlockQ * a.dv)),
        s(static_cast<size_t>(kBlockQ * kBlockK)), dp(s.size()), z(a.dropout ? s.size() : 0) {}
};

// The backward state shared by all tasks: gout, the saved lse, delta = rowsum(dO * O), and the dq
// accumulators, one [BH, Tq, D] slab per key chunk.
template <typename T, typename C>
struct Gradients {
  const Tensor& gout;
  const C* lse;
  const C* delta;
  C* dq;
  T* gk;
  T* gv;
};

// Key rows j0.. of head bh: their dk and dv in full, and their share of dq (into dq_head).
template <typename T, typename C>
void backward_key_block(const Problem<C>& a, int64_t bh, int64_t j0, BackwardTiles<C>& w, const Gradients<T, C>& g,
                        C* dq_head) {
  const int64_t nk = std::min(kBlockK, a.tk - j0);
  const Rows<const T> k = head<const T>(a.k, bh), q = head<const T>(a.q, bh), go = head<const T>(g.gout, bh);
  load_rows(k, j0, nk, a.d, w.k.data());
  load_columns(k, j0, nk, a.d, w.kt.data(), kBlockK);
  load_columns(head<const T>(a.v, bh), j0, nk, a.dv, w.vt.data(), kBlockK);
  std::fill(w.dk.begin(), w.dk.end(), C(0));
  std::fill(w.dv.begin(), w.dv.end(), C(0));
  const C* lse = g.lse + bh * a.tq;
  const C* delta = g.delta + bh * a.tq;
  // Under causal, queries before j0 see none of these keys.
  for (int64_t i0 = a.causal ? j0 / kBlockQ * kBlockQ : 0; i0 < a.tq; i0 += kBlockQ) {
    const int64_t nq = std::min(kBlockQ, a.tq - i0);
    load_rows(q, i0, nq, a.d, w.q.data());
    load_rows(go, i0, nq, a.dv, w.go.data());
    dot_tile(w.q.data(), nq, w.kt.data(), kBlockK, a.d, a.scale, w.s.data());
    hide_tile(a, bh, i0, nq, j0, nk, w.s.data());
    dot_tile(w.go.data(), nq, w.vt.data(), kBlockK, a.dv, C(1), w.dp.data());
    if (a.dropout) dropout_tile(a, bh, i0, nq, j0, nk, w.z.data());
    for (int64_t i = 0; i < nq; ++i) {
      C* p = w.s.data() + i * kBlockK;    // becomes the probabilities, dropout applied
      C* ds = w.dp.data() + i * kBlockK;  // becomes dL/dscore
      const C* z = a.dropout ? w.z.data() + i * kBlockK : nullptr;
      const C li = lse[i0 + i], di = delta[i0 + i];
      // A hidden score has p = 0 (its row's lse may be -inf, so exp(s - lse) is not used there).
#pragma omp simd
      for (int64_t j = 0; j < kBlockK; ++j)
        p[j] = p[j] == -std::numeric_limits<C>::infinity() ? C(0) : cpu::vexp(p[j] - li);
      // Separate loops: a `z ? z[j] : 1` select becomes a masked load through the null pointer,
      // which the CPU executes correctly but hundreds of times slower.
      if (z) {
#pragma omp simd
        for (int64_t j = 0; j < kBlockK; ++j) {
          ds[j] = p[j] * (ds[j] * z[j] - di);
          p[j] *= z[j];
        }
      } else {
#pragma omp simd
        for (int64_t j = 0; j < kBlockK; ++j) ds[j] = p[j] * (ds[j] - di);
      }
    }
    accumulate(w.s.data(), 1, kBlockK, nk, nq, w.go.data(), a.dv, w.dv.data(), a.dv);   // dV += P^T dO
    accumulate(w.dp.data(), 1, kBlockK, nk, nq, w.q.data(), a.d, w.dk.data(), a.d);     // dK += dS^T Q
    accumulate(w.dp.data(), kBlockK, 1, nq, nk, w.k.data(), a.d, dq_head + i0 * a.d, a.d);  // dQ += dS K
  }
  for (int64_t j = 0; j < nk; ++j) {
    T* gk = g.gk + (bh * a.tk + j0 + j) * a.d;
    T* gv = g.gv + (bh * a.tk + j0 + j) * a.dv;
    const C* dk = w.dk.data() + j * a.d;
    const C* dv = w.dv.data() + j * a.dv;
    for (int64_t c = 0; c < a.d; ++c) gk[c] = static_cast<T>(dk[c] * a.scale);
    for (int64_t c = 0; c < a.dv; ++c) gv[c] = static_cast<T>(dv[c]);
  }
}

template <typename T>
void forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Backend::AttentionParams& p,
             const Tensor& out, const Tensor& lse) {
  using C = compute_t<T>;
  const Problem<C> a(q, k, v, mask, p);
  const int64_t qblocks = ceil_div(a.tq, kBlockQ), tasks = a.heads * qblocks;
  T* o = static_cast<T*>(out.data_ptr());
  C* l = static_cast<C*>(lse.data_ptr());
#pragma omp parallel if (a.parallel(tasks))
  {
    ForwardTiles<C> w(a);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tasks; ++t) forward_block<T, C>(a, t / qblocks, t % qblocks * kBlockQ, w, o, l);
  }
}

template <typename T>
void backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Tensor& out,
              const Tensor& lse, const Tensor& gout, const Backend::AttentionParams& p, const Tensor& gq,
              const Tensor& gk, const Tensor& gv) {
  using C = compute_t<T>;
  const Problem<C> a(q, k, v, mask, p);
  const int64_t rows = a.heads * a.tq;
  // D_i = rowsum(dO * O) = sum_j P_ij dP_ij, the softmax backward's row term (dropout included).
  std::vector<C> delta(static_cast<size_t>(rows));
  const T* o = static_cast<const T*>(out.data_ptr());
  cpu::for_each_row(rows, a.dv, [&](int64_t r) {
    const T* orow = o + r * a.dv;
    const T* grow = head<const T>(gout, r / a.tq).row(r % a.tq);
    C s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < a.dv; ++c) s += static_cast<C>(orow[c]) * static_cast<C>(grow[c]);
    delta[static_cast<size_t>(r)] = s;
  });
  // Tasks own whole key blocks (so their dk, dv rows) of one head; dq sums over key blocks, so
  // each of `chunks` chunks of a head's key blocks adds into its own dq slab, summed at the end
  // in a fixed order. With many heads one chunk each keeps the threads busy.
  const int64_t kblocks = ceil_div(a.tk, kBlockK);
  const int64_t wanted = ceil_div(4 * omp_get_max_threads(), std::max<int64_t>(a.heads, 1));
  const int64_t chunks = std::max<int64_t>(1, std::min(kblocks, wanted));
  std::vector<C> dq(static_cast<size_t>(chunks * rows * a.d), C(0));
  const Gradients<T, C> g{gout, static_cast<const C*>(lse.data_ptr()), delta.data(), dq.data(),
                          static_cast<T*>(gk.data_ptr()), static_cast<T*>(gv.data_ptr())};
  const int64_t tasks = a.heads * chunks;
#pragma omp parallel if (a.parallel(tasks))
  {
    BackwardTiles<C> w(a);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t bh = t / chunks, chunk = t % chunks;
      C* dq_head = dq.data() + (chunk * a.heads + bh) * a.tq * a.d;
      for (int64_t b = chunk * kblocks / chunks; b < (chunk + 1) * kblocks / chunks; ++b)
        backward_key_block<T, C>(a, bh, b * kBlockK, w, g, dq_head);
    }
  }
  T* gqs = static_cast<T*>(gq.data_ptr());
  cpu::for_each_row(rows, a.d * chunks, [&](int64_t r) {
    T* out_row = gqs + r * a.d;
    for (int64_t c = 0; c < a.d; ++c) {
      C s = 0;
      for (int64_t chunk = 0; chunk < chunks; ++chunk) s += dq[static_cast<size_t>((chunk * rows + r) * a.d + c)];
      out_row[c] = static_cast<T>(s * a.scale);
    }
  });
}

}  // namespace

// The kernels here write (and read out) as contiguous [B,H,T,C]; the interface also allows
// other layouts with unit-stride rows (heads interleaved, as a [B,T,H,C] buffer seen
// transposed). Those go through a contiguous copy (backends/dense.h).
void CpuBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                           const AttentionParams& p, const Tensor& out, const Tensor& lse) {
  host_checks::check_attention_operands("attention", q, k, v, mask);
  host_checks::check_attention_rows("attention", "out", out);
  const Tensor o = contiguous_scratch(out);
  dispatch_floating(q.dtype(), "attention", [&]<typename T>() { forward<T>(q, k, v, mask, p, o, lse); });
  if (!o.is_same(out)) copy(o, out);
}

void CpuBackend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                    const Tensor& out, const Tensor& lse, const Tensor& gout, const AttentionParams& p,
                                    const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  host_checks::check_attention_operands("attention_backward", q, k, v, mask);
  host_checks::check_attention_rows("attention_backward", "gout", gout);
  for (const Tensor* g : {&gq, &gk, &gv}) host_checks::check_attention_rows("attention_backward", "gradient", *g);
  const Tensor o = dense(*this, out), dq = contiguous_scratch(gq), dk = contiguous_scratch(gk), dv = contiguous_scratch(gv);
  dispatch_floating(q.dtype(), "attention_backward",
                    [&]<typename T>() { backward<T>(q, k, v, mask, o, lse, gout, p, dq, dk, dv); });
  for (auto [scratch, g] : {std::pair{&dq, &gq}, std::pair{&dk, &gk}, std::pair{&dv, &gv}})
    if (!scratch->is_same(*g)) copy(*scratch, *g);
}

}  // namespace ember
