// Attention for f32 and f64 on cuBLAS: the scores of a chunk of query rows, for all heads at
// once, are one strided-batched GEMM; a warp per score row applies causal, the mask and dropout
// and turns the row into probabilities (forward) or dL/dscore (backward); the products with V
// (forward) and with K, Q, dO (backward) are strided-batched GEMMs again, batched over heads.
//
// Chunks: rows [i0, i0 + n) of heads [h0, h0 + hn) score against keys [0, kn), kn = Tk, or under
// causal the keys the chunk's last row sees, min(Tk, i0 + n). Each score buffer of a chunk (S in
// the forward, S and dP in the backward) stays under kScratchBytes: n rows of every head when
// that fits, else fewer heads (a single row each). Under causal, chunks are at most
// ceil(Tq / kCausalChunks) rows (at least kCausalMinRows), so the GEMMs skip part of the hidden
// upper triangle. Chunks are of equal size, in multiples of kRowTile rows when they hold that
// many. (Measured on an H200, GPT-2's B 8, 12 heads, T 1024, f32 on TF32: 8 or 16 causal chunks
// skip more of the triangle but lose more to smaller GEMMs and launches, 15-45% slower than 4;
// 3 chunks of 342 rows were ~10% slower than 4 of 256.)
//   forward:  S = scale Q_c K^T;  rows: P = Z o softmax(S) and lse;  O_c = P V
//   backward: S = scale Q_c K^T, dP = dO_c V^T;  rows: P = exp(S - lse), dS = P o (Z o dP - delta),
//             P' = Z o P;  gq_c = scale dS K;  gk += scale dS^T Q_c;  gv += P'^T dO_c
// (Z: 1 / (1 - p) where dropout keeps the score, else 0; gk and gv are zeroed first.) No
// probabilities are kept between the passes. Visibility and dropout come from Rules
// (attention_common.cuh), element (bh, i, j) for element as the CPU and the other CUDA paths.
// f32 GEMMs run on TF32 when the backend's switch is on, as matmul does.
#include <algorithm>
#include <climits>
#include <limits>
#include <optional>
#include <type_traits>

#include "backends/cuda/attention_common.cuh"
#include "backends/cuda/attention_gemm.h"
#include "backends/cuda/check.h"
#include "backends/cuda/context.h"
#include "backends/cuda/cuda_device.h"
#include "tensor/creation.h"

namespace ember::cuda::attention {
namespace {

constexpr const char* kOp = "attention";
constexpr int64_t kScratchBytes = int64_t{256} << 20;  // per score buffer of a chunk
constexpr int64_t kCausalChunks = 4;                   // under causal, at least this many chunks ...
constexpr int64_t kCausalMinRows = 64;                 // ... unless they would get fewer rows than this
constexpr int64_t kRowTile = 64;                       // chunk rows round to this where they can
constexpr int64_t kRowAlign = 8;                       // score rows start on 32 (f32) / 64 (f64) bytes
constexpr int kRowWarps = 8;                           // score rows per block of the row kernels

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int as_int(int64_t v) {
  check(v >= 0 && v <= INT_MAX, kOp, ": a GEMM size or stride of ", v, " is outside [0, 2^31 - 1]");
  return static_cast<int>(v);
}

// ---- cuBLAS ----

// One GEMM operand: batch b's row-major matrix at data + b * batch_stride, rows ld apart, read
// transposed when `transposed`.
template <typename T>
struct Operand {
  const T* data;
  int64_t ld, batch_stride;
  bool transposed;
};

template <typename T>
cublasComputeType_t compute_type() {
  if constexpr (std::is_same_v<T, double>) return CUBLAS_COMPUTE_64F;
  return cuda_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

// c[b] = alpha op(a[b]) op(b[b]) + beta c[b] for b < batch: row-major [M, N] results rows ldc
// apart. cuBLAS is column-major: it computes c^T = op(b)^T op(a)^T, so b goes first, and a
// row-major matrix is its column-major transpose, so each operand keeps its own op.
template <typename T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, const Operand<T>& a, const Operand<T>& b, T beta, T* c,
          int64_t ldc, int64_t c_stride, int64_t batch) {
  constexpr cudaDataType_t kType = std::is_same_v<T, double> ? CUDA_R_64F : CUDA_R_32F;
  const auto op = [](const Operand<T>& x) { return x.transposed ? CUBLAS_OP_T : CUBLAS_OP_N; };
  const cublasStatus_t status = cublasGemmStridedBatchedEx(
      cuda::cublas(), op(b), op(a), as_int(N), as_int(M), as_int(K), &alpha, b.data, kType, as_int(b.ld),
      b.batch_stride, a.data, kType, as_int(a.ld), a.batch_stride, &beta, c, kType, as_int(ldc), c_stride,
      as_int(batch), compute_type<T>(), CUBLAS_GEMM_DEFAULT);
  check(status == CUBLAS_STATUS_SUCCESS, kOp, ": cublasGemmStridedBatchedEx failed: ", cublasGetStatusString(status));
}

// ---- operands ----

// A [B,H,T,C] operand as the GEMMs read it: head bh's [T, C] matrix at data + bh * batch_stride,
// rows ld apart, unit stride along C.
template <typename T>
struct HeadMatrices {
  const T* data;
  int64_t ld, batch_stride;
  // Rows [row, ...) of heads [bh, ...), optionally read transposed.
  Operand<T> at(int64_t bh, int64_t row, bool transposed = false) const {
    return {data + bh * batch_stride + row * ld, ld, batch_stride, transposed};
  }
};

// nullopt unless one stride steps through the heads in the order b H + h, and rows do not overlap.
template <typename T>
std::optional<HeadMatrices<T>> heads_in_place(const Tensor& t) {
  const int64_t heads = t.size(1), rows = t.size(2), cols = t.size(3);
  const int64_t ld = rows <= 1 ? cols : t.stride(2);  // a single row's stride addresses nothing
  const int64_t batch_stride = heads <= 1 ? t.stride(0) : t.stride(1);
  if (heads > 1 && t.size(0) > 1 && t.stride(0) != heads * t.stride(1)) return std::nullopt;
  if (ld < cols || ld > INT_MAX || batch_stride < 0) return std::nullopt;
  return HeadMatrices<T>{static_cast<const T*>(t.data_ptr()), ld, batch_stride};
}

// t in place when the GEMMs can read it, else a contiguous copy held by `copy` (the [B,T,H,D]
// buffers attention heads usually come in need one).
template <typename T>
HeadMatrices<T> heads_for_gemm(Backend& backend, const Tensor& t, Tensor& copy) {
  if (const std::optional<HeadMatrices<T>> in_place = heads_in_place<T>(t)) return *in_place;
  copy = empty(t.shape(), {.dtype = t.dtype(), .device = t.device()});
  backend.copy(t, copy);
  return *heads_in_place<T>(copy);
}

// ---- chunks ----

// Rows [i0, i0 + n) of heads [h0, h0 + hn) against keys [0, kn); head h0 + b's scores start at
// scores + b * n * ld, rows ld >= kn apart.
struct Chunk {
  int64_t h0, hn, i0, n, kn, ld;
  __host__ __device__ int64_t rows() const { return hn * n; }
  __host__ __device__ int64_t stride() const { return n * ld; }
};

// How many heads and query rows a chunk takes (see the top of the file).
struct Plan {
  int64_t heads, rows, ld;
  int64_t scores() const { return heads * rows * ld; }  // elements of one score buffer
};

Plan plan_chunks(const Rules& r, int64_t bh, size_t element_bytes) {
  const int64_t ld = ceil_div(r.tk, kRowAlign) * kRowAlign;
  const int64_t fit = std::max<int64_t>(1, kScratchBytes / (static_cast<int64_t>(element_bytes) * ld));
  int64_t rows = std::clamp<int64_t>(fit / bh, 1, r.tq);  // score rows of every head
  if (r.causal) rows = std::min(rows, std::max(kCausalMinRows, ceil_div(r.tq, kCausalChunks)));
  if (rows < r.tq) {  // several chunks: of equal size, in whole tiles of rows where they can be
    if (rows >= kRowTile) rows = rows / kRowTile * kRowTile;
    const int64_t even = ceil_div(r.tq, ceil_div(r.tq, rows));
    rows = rows >= kRowTile ? std::min(rows, ceil_div(even, kRowTile) * kRowTile) : even;
  }
  int64_t heads = std::clamp<int64_t>(fit / rows, 1, bh);  // below bh only when one row each is too much
  heads = ceil_div(bh, ceil_div(bh, heads));
  return {heads, rows, ld};
}

template <typename F>
void for_each_chunk(const Plan& plan, const Rules& r, int64_t bh, F&& f) {
  for (int64_t h0 = 0; h0 < bh; h0 += plan.heads)
    for (int64_t i0 = 0; i0 < r.tq; i0 += plan.rows) {
      const int64_t n = std::min(plan.rows, r.tq - i0);
      const int64_t kn = r.causal ? std::min(r.tk, i0 + n) : r.tk;
      f(Chunk{h0, std::min(plan.heads, bh - h0), i0, n, kn, ceil_div(kn, kRowAlign) * kRowAlign});
    }
}

// ---- row kernels: a warp per score row ----

// The score row a warp owns: chunk row `row`, head bh, query i.
struct ScoreRow {
  int64_t row, bh, i;
};
__device__ __forceinline__ ScoreRow score_row(const Chunk& c) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowWarps + threadIdx.x / 32;
  return {row, c.h0 + row / c.n, c.i0 + row % c.n};
}

// Scores -> the probabilities P V needs (dropout applied), in place, and each row's lse. Pass 1
// folds the visible scores into a per-lane running max and sum (hidden ones set to -inf), merged
// over the warp; pass 2 writes exp(s - max) / sum, 0 where hidden or dropped.
template <typename C>
__global__ void __launch_bounds__(kRowWarps * 32) softmax_rows_kernel(C* scores, Chunk c, Rules r, C* lse) {
  constexpr C kHidden = -std::numeric_limits<C>::infinity();
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const ScoreRow w = score_row(c);
  if (w.row >= c.rows()) return;  // whole warps leave; no block barrier follows
  C* s = scores + w.row / c.n * c.stride() + w.row % c.n * c.ld;
  const int64_t end = r.causal ? min(c.kn, w.i + 1) : c.kn;  // keys past `end` are hidden by causal
  C m = kHidden, l = 0;
  for (int64_t j = lane; j < end; j += 32) {
    if (!r.visible(w.bh, w.i, j)) {
      s[j] = kHidden;
      continue;
    }
    const C x = s[j];
    if (x == kHidden) continue;
    if (x > m) {
      l = l * std::exp(m - x) + 1;
      m = x;
    } else {
      l += std::exp(x - m);
    }
  }
  const C row_max = warp_max(m);
  const C sum = warp_sum(m == kHidden ? C(0) : l * std::exp(m - row_max));
  const C inv = sum > 0 ? C(1) / sum : C(0);  // a row that sees no key gets 0 and lse = -inf
  if (lane == 0) lse[w.bh * r.tq + w.i] = sum > 0 ? row_max + std::log(sum) : kHidden;
  const C keep = static_cast<C>(r.keep);
  for (int64_t j = lane; j < c.kn; j += 32) {
    C p = j < end && sum > 0 ? std::exp(s[j] - row_max) * inv : C(0);
    if (r.dropout && p != C(0)) p *= r.kept(w.bh, w.i, j) ? keep : C(0);
    s[j] = p;
  }
}

// S and dP of the backward -> P' = Z o P (into scores) and dS = P o (Z o dP - delta) (into dp),
// P recomputed from lse, exactly as the CUDA-core backward kernels.
template <typename C>
__global__ void __launch_bounds__(kRowWarps * 32)
    gradient_rows_kernel(C* scores, C* dp, Chunk c, Rules r, const C* lse, const C* delta) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const ScoreRow w = score_row(c);
  if (w.row >= c.rows()) return;
  const int64_t at = w.row / c.n * c.stride() + w.row % c.n * c.ld;
  C* s = scores + at;
  C* g = dp + at;
  const C li = lse[w.bh * r.tq + w.i], di = delta[w.bh * r.tq + w.i], keep = static_cast<C>(r.keep);
  for (int64_t j = lane; j < c.kn; j += 32) {
    C p = 0, ds = 0;
    if (r.visible(w.bh, w.i, j)) {  // then the row saw a key: lse is finite
      p = std::exp(s[j] - li);
      const C z = r.dropout ? (r.kept(w.bh, w.i, j) ? keep : C(0)) : C(1);
      ds = p * (g[j] * z - di);
      p *= z;
    }
    s[j] = p;
    g[j] = ds;
  }
}

unsigned row_blocks(const Chunk& c) {
  const int64_t blocks = ceil_div(c.rows(), kRowWarps);
  check(blocks <= INT_MAX, kOp, ": too many score rows (", c.rows(), ")");
  return static_cast<unsigned>(blocks);
}

// ---- the passes ----

template <typename T>
void forward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
             const Backend::AttentionParams& p, const Tensor& out, const Tensor& lse) {
  const Rules r = rules_of(q, k, mask, p);
  const int64_t bh = q.size(0) * q.size(1), d = q.size(3), dv = v.size(3);
  const T scale = static_cast<T>(p.scale);
  Tensor q_copy, k_copy, v_copy;
  const HeadMatrices<T> qh = heads_for_gemm<T>(backend, q, q_copy), kh = heads_for_gemm<T>(backend, k, k_copy),
                 vh = heads_for_gemm<T>(backend, v, v_copy);
  if (r.tq == 0) return;
  const Plan plan = plan_chunks(r, bh, sizeof(T));
  const Tensor buffer = empty({plan.scores()}, {.dtype = q.dtype(), .device = q.device()});
  T* s = static_cast<T*>(buffer.data_ptr());
  T* o = static_cast<T*>(out.data_ptr());
  for_each_chunk(plan, r, bh, [&](const Chunk& c) {
    // S = scale Q_c K^T
    gemm<T>(c.n, c.kn, d, scale, qh.at(c.h0, c.i0), kh.at(c.h0, 0, true), T(0), s, c.ld, c.stride(), c.hn);
    softmax_rows_kernel<T><<<row_blocks(c), kRowWarps * 32, 0, cuda::stream()>>>(s, c, r,
                                                                                  static_cast<T*>(lse.data_ptr()));
    CUDA_CHECK_LAUNCH();
    // O_c = P V
    gemm<T>(c.n, dv, c.kn, T(1), {s, c.ld, c.stride(), false}, vh.at(c.h0, 0), T(0), o + (c.h0 * r.tq + c.i0) * dv,
            dv, r.tq * dv, c.hn);
  });
}

template <typename T>
void backward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
              const Tensor& gout, const Tensor& lse, const Tensor& delta, const Backend::AttentionParams& p,
              const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  const Rules r = rules_of(q, k, mask, p);
  const int64_t bh = q.size(0) * q.size(1), d = q.size(3), dv = v.size(3);
  const T scale = static_cast<T>(p.scale);
  Tensor q_copy, k_copy, v_copy, g_copy;
  const HeadMatrices<T> qh = heads_for_gemm<T>(backend, q, q_copy), kh = heads_for_gemm<T>(backend, k, k_copy),
                 vh = heads_for_gemm<T>(backend, v, v_copy), gh = heads_for_gemm<T>(backend, gout, g_copy);
  // gk and gv sum over the chunks; keys no query sees (causal with Tk > Tq) keep their zeros.
  for (const Tensor* t : {&gk, &gv})
    CUDA_CHECK(cudaMemsetAsync(t->data_ptr(), 0, static_cast<size_t>(t->numel()) * sizeof(T), cuda::stream()));
  if (r.tq == 0) return;
  const Plan plan = plan_chunks(r, bh, sizeof(T));
  const Tensor buffers = empty({2 * plan.scores()}, {.dtype = q.dtype(), .device = q.device()});
  T* s = static_cast<T*>(buffers.data_ptr());
  T* dp = s + plan.scores();
  T* q_grad = static_cast<T*>(gq.data_ptr());
  T* k_grad = static_cast<T*>(gk.data_ptr());
  T* v_grad = static_cast<T*>(gv.data_ptr());
  for_each_chunk(plan, r, bh, [&](const Chunk& c) {
    // S = scale Q_c K^T, dP = dO_c V^T
    gemm<T>(c.n, c.kn, d, scale, qh.at(c.h0, c.i0), kh.at(c.h0, 0, true), T(0), s, c.ld, c.stride(), c.hn);
    gemm<T>(c.n, c.kn, dv, T(1), gh.at(c.h0, c.i0), vh.at(c.h0, 0, true), T(0), dp, c.ld, c.stride(), c.hn);
    gradient_rows_kernel<T><<<row_blocks(c), kRowWarps * 32, 0, cuda::stream()>>>(
        s, dp, c, r, static_cast<const T*>(lse.data_ptr()), static_cast<const T*>(delta.data_ptr()));
    CUDA_CHECK_LAUNCH();
    // gq_c = scale dS K
    gemm<T>(c.n, d, c.kn, scale, {dp, c.ld, c.stride(), false}, kh.at(c.h0, 0), T(0), q_grad + (c.h0 * r.tq + c.i0) * d, d, r.tq * d,
            c.hn);
    // gk[0, kn) += scale dS^T Q_c
    gemm<T>(c.kn, d, c.n, scale, {dp, c.ld, c.stride(), true}, qh.at(c.h0, c.i0), T(1), k_grad + c.h0 * r.tk * d, d,
            r.tk * d, c.hn);
    // gv[0, kn) += P'^T dO_c
    gemm<T>(c.kn, dv, c.n, T(1), {s, c.ld, c.stride(), true}, gh.at(c.h0, c.i0), T(1), v_grad + c.h0 * r.tk * dv,
            dv, r.tk * dv, c.hn);
  });
}

}  // namespace

bool gemm_path(const Tensor& q, const Tensor& k, const Tensor& v) {
  return (q.dtype() == DType::F32 || q.dtype() == DType::F64) && q.size(3) > 0 && v.size(3) > 0 && k.size(2) > 0;
}

void gemm_forward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                  const Backend::AttentionParams& p, const Tensor& out, const Tensor& lse) {
  if (q.dtype() == DType::F64) return forward<double>(backend, q, k, v, mask, p, out, lse);
  forward<float>(backend, q, k, v, mask, p, out, lse);
}

void gemm_backward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                   const Tensor& gout, const Tensor& lse, const Tensor& delta, const Backend::AttentionParams& p,
                   const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  if (q.dtype() == DType::F64) return backward<double>(backend, q, k, v, mask, gout, lse, delta, p, gq, gk, gv);
  backward<float>(backend, q, k, v, mask, gout, lse, delta, p, gq, gk, gv);
}

}  // namespace ember::cuda::attention
