// Attention for f32 and f64 on cuBLAS: the scores of a chunk of query rows, for all heads at
// once, are one batched GEMM; a warp per score row applies causal, the mask and dropout and turns
// the row into probabilities (forward) or dL/dscore (backward); the products with V (forward)
// and with K, Q, dO (backward) are batched GEMMs again, batched over heads.
//
// Operands where they lie: q, k, v, dO and the outputs out, gq, gk, gv are [B,H,T,C] tensors of
// any strides with unit-stride rows, read and written in place. A GEMM whose operands each step
// through the chunk's heads (bh = b H + h) by a single stride is cublasGemmStridedBatchedEx.
// Otherwise (interleaved heads: [B,T,H,C] buffers viewed as [B,H,T,C], as a linear layer's heads
// come and as autograd allocates their gradients, whose b and h strides make no single stride) it
// is cublasGemmBatchedEx over per-head pointer arrays: once per call (per group of chunks where
// the table would pass kMaxPointers entries) a small kernel writes, into a scratch tensor on the
// device, the address of every operand's matrix for every head of every chunk, on the stream
// ahead of the GEMMs that read it. Every GEMM of a chunk still batches all its heads: one strided
// GEMM per batch element (12 heads) made GPT-2's TF32 step slower (69 vs 60 ms), too small to
// fill the GPU, and contiguous copies of the heads cost ~2.9 ms of the 60. cuBLAS's TF32 kernels
// need the pointers they read on the device 16-byte aligned (asked of f64 too), and every GEMM
// needs rows that do not overlap (ld >= C): where a tensor fails that, the tensors no single
// stride serves are copied to contiguous ones instead (outputs computed there and copied back)
// and every GEMM is strided-batched. EMBER_ATTN_GEMM=copy forces that, for timing.
//
// Chunks: rows [i0, i0 + n) of heads [h0, h0 + hn) score against keys [0, kn), kn = Tk, or under
// causal the keys the chunk's last row sees, min(Tk, i0 + n). Each score buffer of a chunk (S in
// the forward, S and dP in the backward) stays under kScratchBytes: n rows of every head when
// that fits, else fewer heads (a single row each). Under causal, chunks are at most
// ceil(Tq / kCausalChunks) rows (at least kCausalMinRows), so the GEMMs skip part of the hidden
// upper triangle. Chunks are of equal size, in multiples of kRowTile rows when they hold that
// many. (Measured on an H200, GPT-2's B 8, 12 heads, T 1024, f32 on TF32: 8 or 16 causal chunks
// skip more of the triangle but lose more to smaller GEMMs and launches, 15-45% slower than 4;
// 3 chunks of 342 rows were ~10% slower than 4 of 256.) Score buffers are contiguous, rows
// padded to kRowAlign elements.
//   forward:  S = scale Q_c K^T;  rows: P = Z o softmax(S) and lse;  O_c = P V
//   backward: S = scale Q_c K^T, dP = dO_c V^T;  rows: P = exp(S - lse), dS = P o (Z o dP - delta),
//             P' = Z o P;  gq_c = scale dS K;  gk += scale dS^T Q_c;  gv += P'^T dO_c
// (Z: 1 / (1 - p) where dropout keeps the score, else 0; gk and gv are zeroed first.) No
// probabilities are kept between the passes. Visibility and dropout come from Rules
// (attention_common.cuh), element (bh, i, j) for element as the CPU and the other CUDA paths.
// Rows of up to kRegisterKeys keys stay in registers through the softmax: each score read once
// and written once, 16 bytes per lane access, one exp per score (the row's max first, then the
// sum); longer rows take two passes over memory with a running max and sum. The backward's row
// kernel reads S and dP and writes P' and dS, 16 bytes per lane access.
// f32 GEMMs run on TF32 when the backend's switch is on, as matmul does.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

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
constexpr int64_t kRegisterKeys = 1024;                // softmax rows up to this long stay in registers
constexpr int kMaxSlots = 9;                           // pointer arrays per chunk: q k v dO gq gk gv S dP
constexpr int64_t kMaxPointers = int64_t{1} << 20;     // entries of one pointer table (8 MB)

__host__ __device__ constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int as_int(int64_t v) {
  check(v >= 0 && v <= INT_MAX, kOp, ": a GEMM size or stride of ", v, " is outside [0, 2^31 - 1]");
  return static_cast<int>(v);
}

// ---- chunks ----

// Rows [i0, i0 + n) of heads [h0, h0 + hn) against keys [0, kn); head h0 + b's scores start at
// scores + b * n * ld, rows ld >= kn apart.
struct Chunk {
  int64_t h0, hn, i0, n, kn, ld;
  __host__ __device__ int64_t rows() const { return hn * n; }
  __host__ __device__ int64_t stride() const { return n * ld; }
};

// How many heads and query rows a chunk takes (see the top of the file), and the chunks in
// order: heads outermost, then rows. The pointer kernel finds a chunk from its index as the host.
struct Plan {
  int64_t heads, rows, ld;  // per chunk at most; ld: the widest chunk's score row stride
  int64_t bh, tq, tk;
  bool causal;
  int64_t scores() const { return heads * rows * ld; }  // elements of one score buffer
  __host__ __device__ int64_t row_chunks() const { return ceil_div(tq, rows); }
  __host__ __device__ int64_t chunks() const { return ceil_div(bh, heads) * row_chunks(); }
  __host__ __device__ Chunk chunk(int64_t index) const {
    const int64_t h0 = index / row_chunks() * heads, i0 = index % row_chunks() * rows;
    const int64_t n = std::min(rows, tq - i0), kn = causal ? std::min(tk, i0 + n) : tk;
    return {h0, std::min(heads, bh - h0), i0, n, kn, ceil_div(kn, kRowAlign) * kRowAlign};
  }
};

// max_heads bounds the heads of a chunk (its pointer arrays).
Plan plan_chunks(const Rules& r, int64_t bh, size_t element_bytes, int64_t max_heads) {
  const int64_t ld = ceil_div(r.tk, kRowAlign) * kRowAlign;
  const int64_t fit = std::max<int64_t>(1, kScratchBytes / (static_cast<int64_t>(element_bytes) * ld));
  int64_t rows = std::clamp<int64_t>(fit / bh, 1, r.tq);  // score rows of every head
  if (r.causal) rows = std::min(rows, std::max(kCausalMinRows, ceil_div(r.tq, kCausalChunks)));
  if (rows < r.tq) {  // several chunks: of equal size, in whole tiles of rows where they can be
    if (rows >= kRowTile) rows = rows / kRowTile * kRowTile;
    const int64_t even = ceil_div(r.tq, ceil_div(r.tq, rows));
    rows = rows >= kRowTile ? std::min(rows, ceil_div(even, kRowTile) * kRowTile) : even;
  }
  // Below bh only when one row each is too much, or for the pointer arrays' bound.
  int64_t heads = std::clamp<int64_t>(fit / rows, 1, std::min(bh, std::max<int64_t>(1, max_heads)));
  heads = ceil_div(bh, ceil_div(bh, heads));
  return {heads, rows, ld, bh, r.tq, r.tk, r.causal};
}

// ---- cuBLAS ----

// One GEMM operand over the heads of a chunk: head b's row-major matrix at data + b * batch_stride
// (when `strided`) and at pointers[b] (when the pointer arrays were built), rows ld apart, read
// transposed when `transposed`.
template <typename T>
struct Operand {
  T* data;
  int64_t ld, batch_stride;
  T* const* pointers;  // device memory, one per head of the chunk; null without pointer arrays
  bool strided, transposed;
};

template <typename T>
cublasComputeType_t compute_type() {
  if constexpr (std::is_same_v<T, double>) return CUBLAS_COMPUTE_64F;
  return cuda_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

// c[b] = alpha op(a[b]) op(b[b]) + beta c[b] for b < batch: row-major [M, N] results. cuBLAS is
// column-major: it computes c^T = op(b)^T op(a)^T, so b goes first, and a row-major matrix is its
// column-major transpose, so each operand keeps its own op. Strided-batched when every operand
// has one batch stride, else over the pointer arrays.
template <typename T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, const Operand<T>& a, const Operand<T>& b, T beta,
          const Operand<T>& c, int64_t batch) {
  constexpr cudaDataType_t kType = std::is_same_v<T, double> ? CUDA_R_64F : CUDA_R_32F;
  const auto op = [](const Operand<T>& x) { return x.transposed ? CUBLAS_OP_T : CUBLAS_OP_N; };
  if (a.strided && b.strided && c.strided) {
    const cublasStatus_t status = cublasGemmStridedBatchedEx(
        cuda::cublas(), op(b), op(a), as_int(N), as_int(M), as_int(K), &alpha, b.data, kType, as_int(b.ld),
        b.batch_stride, a.data, kType, as_int(a.ld), a.batch_stride, &beta, c.data, kType, as_int(c.ld),
        c.batch_stride, as_int(batch), compute_type<T>(), CUBLAS_GEMM_DEFAULT);
    check(status == CUBLAS_STATUS_SUCCESS, kOp, ": cublasGemmStridedBatchedEx failed: ",
          cublasGetStatusString(status));
    return;
  }
  check(a.pointers != nullptr && b.pointers != nullptr && c.pointers != nullptr, kOp,
        ": internal error: a GEMM over heads no single stride steps through has no pointer arrays");
  const cublasStatus_t status = cublasGemmBatchedEx(
      cuda::cublas(), op(b), op(a), as_int(N), as_int(M), as_int(K), &alpha,
      reinterpret_cast<const void* const*>(b.pointers), kType, as_int(b.ld),
      reinterpret_cast<const void* const*>(a.pointers), kType, as_int(a.ld), &beta,
      reinterpret_cast<void* const*>(c.pointers), kType, as_int(c.ld), as_int(batch), compute_type<T>(),
      CUBLAS_GEMM_DEFAULT);
  check(status == CUBLAS_STATUS_SUCCESS, kOp, ": cublasGemmBatchedEx failed: ", cublasGetStatusString(status));
}

// ---- operands ----

// A [B,H,T,C] tensor as the GEMMs address it: head bh = b H + h's [T, C] matrix at
// data + b sb + h sh, rows ld apart, unit stride along C; a chunk takes its rows from the chunk's
// first query (query_rows: q, dO, out, gq) or from row 0 (k, v, gk, gv). `strided`: heads step
// by one batch_stride in the order b H + h.
template <typename T>
struct HeadMatrices {
  T* data;
  int64_t heads, sb, sh, ld, batch_stride;
  bool strided, query_rows;
};

// nullopt where the GEMMs cannot address t in place: rows that overlap, or strides out of range.
template <typename T>
std::optional<HeadMatrices<T>> addressable(const Tensor& t, bool query_rows) {
  const int64_t batch = t.size(0), heads = t.size(1), rows = t.size(2), cols = t.size(3);
  HeadMatrices<T> m{};
  m.data = static_cast<T*>(t.data_ptr());
  m.heads = std::max<int64_t>(heads, 1);
  m.sb = batch <= 1 ? 0 : t.stride(0);  // a single batch element's or head's stride addresses nothing
  m.sh = heads <= 1 ? 0 : t.stride(1);
  m.ld = rows <= 1 ? cols : t.stride(2);
  m.query_rows = query_rows;
  if (m.ld < cols || m.ld > INT_MAX || m.sb < 0 || m.sh < 0) return std::nullopt;
  m.strided = heads <= 1 || batch <= 1 || m.sb == heads * m.sh;
  m.batch_stride = heads <= 1 ? m.sb : m.sh;
  return m;
}

// Whether every pointer to t's matrices starts on 16 bytes, as cuBLAS's TF32 kernels behind
// cublasGemmBatchedEx need (cuBLAS cannot check pointers it reads on the device; its docs ask
// this for the FAST compute types, and it is asked here of f32 and f64 alike, to be safe).
template <typename T>
bool pointers_aligned(const HeadMatrices<T>& m, int64_t rows) {
  constexpr int64_t kAlign = 16 / static_cast<int64_t>(sizeof(T));  // elements
  return reinterpret_cast<uintptr_t>(m.data) % 16 == 0 && m.sb % kAlign == 0 && m.sh % kAlign == 0 &&
         (rows <= 1 || m.ld % kAlign == 0);
}

// EMBER_ATTN_GEMM, read once: "copy" copies heads no single stride steps through instead of
// building pointer arrays (the layout before pointer arrays, for timing); unset or empty: not.
bool copy_heads() {
  static const bool copy = [] {
    const char* e = std::getenv("EMBER_ATTN_GEMM");
    if (e == nullptr || *e == '\0') return false;
    check(std::strcmp(e, "copy") == 0, "EMBER_ATTN_GEMM: unknown value '", e, "' (copy, or unset)");
    return true;
  }();
  return copy;
}

// One call's [B,H,T,C] tensors (inputs and outputs) and how the GEMMs reach them: all with one
// batch stride each (strided-batched GEMMs), else all in place through pointer arrays, else the
// tensors no single stride serves replaced by contiguous stand-ins (see the top of the file).
template <typename T>
class Tensors {
 public:
  explicit Tensors(Backend& backend) : backend_(backend) {}

  // Registers an input, or an output the GEMMs write; returns its id.
  int add(const Tensor& t, bool output, bool query_rows) {
    entries_.push_back({t, t, output, false, query_rows, addressable<T>(t, query_rows)});
    return static_cast<int>(entries_.size()) - 1;
  }

  // Settles how the GEMMs reach every tensor added, copying inputs where needed; true when
  // through pointer arrays.
  bool settle() {
    bool all_strided = true, all_pointers = true;
    for (const Entry& e : entries_) {
      all_strided = all_strided && e.m && e.m->strided;
      all_pointers = all_pointers && e.m && pointers_aligned(*e.m, e.tensor.size(2));
    }
    if (all_strided || (all_pointers && !copy_heads())) return !all_strided;
    for (Entry& e : entries_) {
      if (e.m && e.m->strided) continue;
      Tensor dense = empty(e.tensor.shape(), {.dtype = e.tensor.dtype(), .device = e.tensor.device()});
      if (!e.output) backend_.copy(e.tensor, dense);
      e.tensor = dense;
      e.stand_in = true;
      e.m = addressable<T>(dense, e.query_rows);
      check(e.m && e.m->strided, kOp, ": internal error: a contiguous [B,H,T,C] tensor ", dense.shape(),
            " is not strided-batched");
    }
    return false;
  }

  int size() const { return static_cast<int>(entries_.size()); }
  const HeadMatrices<T>& operator[](int id) const { return *entries_[static_cast<size_t>(id)].m; }
  // Where the GEMMs write output `id`: the caller's tensor, or its stand-in.
  const Tensor& tensor(int id) const { return entries_[static_cast<size_t>(id)].tensor; }

  // Copies outputs computed in stand-ins into the caller's tensors.
  void finish() {
    for (const Entry& e : entries_)
      if (e.output && e.stand_in) backend_.copy(e.tensor, e.target);
  }

 private:
  struct Entry {
    Tensor tensor, target;  // where the GEMMs read / write it; the caller's
    bool output, stand_in, query_rows;
    std::optional<HeadMatrices<T>> m;
  };
  Backend& backend_;
  std::vector<Entry> entries_;
};

// ---- pointer arrays ----

// Where one pointer array's matrices start: a tensor's head bh at data + bh / heads * sb +
// bh % heads * sh (+ i0 ld for query rows), or, for a score buffer, the chunk's head b at
// data + b * stride().
template <typename T>
struct PointerSource {
  T* data;
  int64_t heads, sb, sh, ld;
  bool query_rows, scores;
};
template <typename T>
struct PointerSources {
  PointerSource<T> at[kMaxSlots];
  int count;
};

// table[((index - first) count + slot) stride + b] = slot's matrix for head b of chunk index, for
// the chunks [first, first + entries / (count stride)); stride >= plan.heads. Entries past a
// chunk's hn heads (its last chunk of heads may hold fewer) get the source's base, never read.
template <typename T>
__global__ void pointers_kernel(T** table, PointerSources<T> sources, Plan plan, int64_t stride, int64_t first,
                                int64_t entries) {
  const int64_t per_chunk = sources.count * stride;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < entries;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t b = e % stride;
    const int slot = static_cast<int>(e / stride % sources.count);
    const Chunk c = plan.chunk(first + e / per_chunk);
    const PointerSource<T>& s = sources.at[slot];
    T* p = s.data;
    if (b < c.hn) {
      if (s.scores) {
        p = s.data + b * c.stride();
      } else {
        const int64_t bh = c.h0 + b;
        p = s.data + bh / s.heads * s.sb + bh % s.heads * s.sh + (s.query_rows ? c.i0 : 0) * s.ld;
      }
    }
    table[e] = p;
  }
}

// The chunks of a call, and each GEMM operand of a chunk: strided where the tensor allows, with
// the pointer arrays of every tensor and score buffer when the call goes through them.
template <typename T>
class Batches {
 public:
  Batches(const Plan& plan, const Tensors<T>& tensors, std::initializer_list<T*> scores, bool pointers, Device device)
      : plan_(plan), tensors_(tensors), scores_(scores), pointers_(pointers) {
    for (T* s : scores_)
      check(reinterpret_cast<uintptr_t>(s) % 16 == 0, kOp, ": internal error: a score buffer is not 16-byte aligned");
    if (!pointers_) return;
    sources_.count = tensors.size() + static_cast<int>(scores_.size());
    check(sources_.count <= kMaxSlots, kOp, ": internal error: ", sources_.count, " pointer arrays per chunk");
    for (int id = 0; id < tensors.size(); ++id) {
      const HeadMatrices<T>& m = tensors[id];
      sources_.at[id] = {m.data, m.heads, m.sb, m.sh, m.ld, m.query_rows, false};
    }
    for (size_t k = 0; k < scores_.size(); ++k)
      sources_.at[static_cast<size_t>(tensors.size()) + k] = {scores_[k], 1, 0, 0, 0, false, true};
    const int64_t per_chunk = sources_.count * slot_stride_;
    group_ = std::max<int64_t>(1, kMaxPointers / per_chunk);
    table_ = empty({std::min(group_, plan_.chunks()) * per_chunk}, {.dtype = DType::I64, .device = device});
  }

  // f(chunk) for every chunk in order, the pointer arrays of its group written first.
  template <typename F>
  void for_each_chunk(F&& f) {
    const int64_t chunks = plan_.chunks();
    for (int64_t index = 0; index < chunks; ++index) {
      if (pointers_ && index % group_ == 0) {
        // The same stream orders this after the previous group's GEMMs and before the next.
        const int64_t entries = std::min(group_, chunks - index) * sources_.count * slot_stride_;
        pointers_kernel<T><<<cuda::grid_for(entries, 256), 256, 0, cuda::stream()>>>(table(), sources_, plan_,
                                                                                     slot_stride_, index, entries);
        CUDA_CHECK_LAUNCH();
      }
      in_group_ = pointers_ ? index % group_ : 0;
      f(plan_.chunk(index));
    }
  }

  // Tensor `id`'s matrices for the chunk's heads, from its first query or from row 0.
  Operand<T> of(int id, const Chunk& c, bool transposed = false) const {
    const HeadMatrices<T>& m = tensors_[id];
    const int64_t row = m.query_rows ? c.i0 : 0;
    return {m.data + c.h0 * m.batch_stride + row * m.ld, m.ld, m.batch_stride, pointers(id), m.strided, transposed};
  }
  // Score buffer k of the chunk.
  Operand<T> scores(int k, const Chunk& c, bool transposed = false) const {
    return {scores_[static_cast<size_t>(k)], c.ld, c.stride(), pointers(tensors_.size() + k), true, transposed};
  }

 private:
  T** table() const { return static_cast<T**>(table_.data_ptr()); }
  T* const* pointers(int slot) const {
    if (!pointers_) return nullptr;
    return table() + (in_group_ * sources_.count + slot) * slot_stride_;
  }

  Plan plan_;
  const Tensors<T>& tensors_;
  std::vector<T*> scores_;
  bool pointers_;
  PointerSources<T> sources_{};
  // Entries per pointer array: the chunk's heads, rounded up so every array starts on 32 bytes.
  int64_t slot_stride_ = ceil_div(plan_.heads, 4) * 4;
  int64_t group_ = 1, in_group_ = 0;  // chunks per table; the current chunk's place in its table
  Tensor table_;
};

// ---- row kernels: a warp per score row ----

// The score row a warp owns: chunk row `row`, head bh, query i.
struct ScoreRow {
  int64_t row, bh, i;
};
__device__ __forceinline__ ScoreRow score_row(const Chunk& c) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowWarps + threadIdx.x / 32;
  return {row, c.h0 + row / c.n, c.i0 + row % c.n};
}

// 16 bytes of a score row (rows start on 32 bytes, and are padded to kRowAlign elements, so a
// pack that starts inside the row ends inside its padding).
template <typename C>
constexpr int kPack = 16 / static_cast<int>(sizeof(C));

__device__ __forceinline__ void load_pack(const float* p, float (&x)[4]) {
  const float4 v = *reinterpret_cast<const float4*>(p);
  x[0] = v.x, x[1] = v.y, x[2] = v.z, x[3] = v.w;
}
__device__ __forceinline__ void load_pack(const double* p, double (&x)[2]) {
  const double2 v = *reinterpret_cast<const double2*>(p);
  x[0] = v.x, x[1] = v.y;
}
__device__ __forceinline__ void store_pack(float* p, const float (&x)[4]) {
  *reinterpret_cast<float4*>(p) = make_float4(x[0], x[1], x[2], x[3]);
}
__device__ __forceinline__ void store_pack(double* p, const double (&x)[2]) {
  *reinterpret_cast<double2*>(p) = make_double2(x[0], x[1]);
}

// Scores -> the probabilities P V needs (dropout applied), in place, and each row's lse, for rows
// of at most kRegisterKeys keys: lane l holds packs l, l + 32, ... of the row in registers. The
// visible scores' max over the warp first, then exp(s - max) and their sum, then p = exp / sum
// (0 where hidden or dropped) written back: each score read once and written once.
template <typename C>
__global__ void __launch_bounds__(kRowWarps * 32) softmax_rows_registers_kernel(C* scores, Chunk c, Rules r, C* lse) {
  constexpr int V = kPack<C>, kPacks = static_cast<int>(kRegisterKeys / (32 * V));
  constexpr C kHidden = -std::numeric_limits<C>::infinity();
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const ScoreRow w = score_row(c);
  if (w.row >= c.rows()) return;  // whole warps leave; no block barrier follows
  C* s = scores + w.row / c.n * c.stride() + w.row % c.n * c.ld;
  const int64_t end = r.causal ? std::min(c.kn, w.i + 1) : c.kn;  // keys past `end` are hidden by causal
  C x[kPacks][V];
  C m = kHidden;
#pragma unroll
  for (int u = 0; u < kPacks; ++u) {
    const int64_t j0 = (static_cast<int64_t>(u) * 32 + lane) * V;
    C loaded[V] = {};
    if (j0 < end) load_pack(s + j0, loaded);
#pragma unroll
    for (int e = 0; e < V; ++e) {
      x[u][e] = j0 + e < end && r.visible(w.bh, w.i, j0 + e) ? loaded[e] : kHidden;
      m = max(m, x[u][e]);
    }
  }
  const C row_max = warp_max(m);
  C l = 0;
#pragma unroll
  for (int u = 0; u < kPacks; ++u)
#pragma unroll
    for (int e = 0; e < V; ++e) {
      x[u][e] = x[u][e] == kHidden ? C(0) : std::exp(x[u][e] - row_max);
      l += x[u][e];
    }
  const C sum = warp_sum(l);
  const C inv = sum > 0 ? C(1) / sum : C(0);  // a row that sees no key gets 0 and lse = -inf
  if (lane == 0) lse[w.bh * r.tq + w.i] = sum > 0 ? row_max + std::log(sum) : kHidden;
  const C keep = static_cast<C>(r.keep);
#pragma unroll
  for (int u = 0; u < kPacks; ++u) {
    const int64_t j0 = (static_cast<int64_t>(u) * 32 + lane) * V;
    if (j0 >= c.kn) continue;
    C p[V];
#pragma unroll
    for (int e = 0; e < V; ++e) {
      p[e] = x[u][e] * inv;
      if (r.dropout && p[e] != C(0)) p[e] *= r.kept(w.bh, w.i, j0 + e) ? keep : C(0);
    }
    store_pack(s + j0, p);
  }
}

// The same for longer rows, in two passes over memory. Pass 1 folds the visible scores into a
// per-lane running max and sum (hidden ones set to -inf), merged over the warp; pass 2 writes
// exp(s - max) / sum, 0 where hidden or dropped.
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
// P recomputed from lse, exactly as the CUDA-core backward kernels; a pack per lane access, keys
// hidden by causal written as zeros without reading them.
template <typename C>
__global__ void __launch_bounds__(kRowWarps * 32)
    gradient_rows_kernel(C* scores, C* dp, Chunk c, Rules r, const C* lse, const C* delta) {
  constexpr int V = kPack<C>;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const ScoreRow w = score_row(c);
  if (w.row >= c.rows()) return;
  const int64_t at = w.row / c.n * c.stride() + w.row % c.n * c.ld;
  C* s = scores + at;
  C* g = dp + at;
  const C li = lse[w.bh * r.tq + w.i], di = delta[w.bh * r.tq + w.i], keep = static_cast<C>(r.keep);
  const int64_t end = r.causal ? std::min(c.kn, w.i + 1) : c.kn;
  for (int64_t j0 = static_cast<int64_t>(lane) * V; j0 < c.kn; j0 += 32 * V) {
    C sv[V] = {}, gv[V] = {};
    if (j0 < end) {
      load_pack(s + j0, sv);
      load_pack(g + j0, gv);
    }
#pragma unroll
    for (int e = 0; e < V; ++e) {
      C p = 0, ds = 0;
      if (j0 + e < end && r.visible(w.bh, w.i, j0 + e)) {  // then the row saw a key: lse is finite
        p = std::exp(sv[e] - li);
        const C z = r.dropout ? (r.kept(w.bh, w.i, j0 + e) ? keep : C(0)) : C(1);
        ds = p * (gv[e] * z - di);
        p *= z;
      }
      sv[e] = p;
      gv[e] = ds;
    }
    store_pack(s + j0, sv);
    store_pack(g + j0, gv);
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
  if (bh == 0 || r.tq == 0) return;
  const T scale = static_cast<T>(p.scale);
  Tensors<T> tensors(backend);
  const int qi = tensors.add(q, false, true), ki = tensors.add(k, false, false), vi = tensors.add(v, false, false),
            oi = tensors.add(out, true, true);
  const bool pointers = tensors.settle();
  const Plan plan = plan_chunks(r, bh, sizeof(T), pointers ? kMaxPointers / kMaxSlots : bh);
  const Tensor buffer = empty({plan.scores()}, {.dtype = q.dtype(), .device = q.device()});
  T* s = static_cast<T*>(buffer.data_ptr());
  T* lse_data = static_cast<T*>(lse.data_ptr());
  Batches<T> batches(plan, tensors, {s}, pointers, q.device());
  batches.for_each_chunk([&](const Chunk& c) {
    // S = scale Q_c K^T
    gemm<T>(c.n, c.kn, d, scale, batches.of(qi, c), batches.of(ki, c, true), T(0), batches.scores(0, c), c.hn);
    if (c.kn <= kRegisterKeys)
      softmax_rows_registers_kernel<T><<<row_blocks(c), kRowWarps * 32, 0, cuda::stream()>>>(s, c, r, lse_data);
    else
      softmax_rows_kernel<T><<<row_blocks(c), kRowWarps * 32, 0, cuda::stream()>>>(s, c, r, lse_data);
    CUDA_CHECK_LAUNCH();
    // O_c = P V
    gemm<T>(c.n, dv, c.kn, T(1), batches.scores(0, c), batches.of(vi, c), T(0), batches.of(oi, c), c.hn);
  });
  tensors.finish();
}

template <typename T>
void backward(Backend& backend, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
              const Tensor& gout, const Tensor& lse, const Tensor& delta, const Backend::AttentionParams& p,
              const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  const Rules r = rules_of(q, k, mask, p);
  const int64_t bh = q.size(0) * q.size(1), d = q.size(3), dv = v.size(3);
  if (bh == 0) return;
  if (r.tq == 0) {  // no query sees a key
    backend.fill(gk, 0);
    backend.fill(gv, 0);
    return;
  }
  const T scale = static_cast<T>(p.scale);
  Tensors<T> tensors(backend);
  const int qi = tensors.add(q, false, true), ki = tensors.add(k, false, false), vi = tensors.add(v, false, false),
            gi = tensors.add(gout, false, true), gqi = tensors.add(gq, true, true), gki = tensors.add(gk, true, false),
            gvi = tensors.add(gv, true, false);
  const bool pointers = tensors.settle();
  // gk and gv sum over the chunks; keys no query sees (causal with Tk > Tq) keep their zeros.
  backend.fill(tensors.tensor(gki), 0);  // a memset where they fill their span (interleaved heads do)
  backend.fill(tensors.tensor(gvi), 0);
  const Plan plan = plan_chunks(r, bh, sizeof(T), pointers ? kMaxPointers / kMaxSlots : bh);
  const Tensor buffers = empty({2 * plan.scores()}, {.dtype = q.dtype(), .device = q.device()});
  T* s = static_cast<T*>(buffers.data_ptr());
  T* dp = s + plan.scores();
  const T* lse_data = static_cast<const T*>(lse.data_ptr());
  const T* delta_data = static_cast<const T*>(delta.data_ptr());
  Batches<T> batches(plan, tensors, {s, dp}, pointers, q.device());
  batches.for_each_chunk([&](const Chunk& c) {
    // S = scale Q_c K^T, dP = dO_c V^T
    gemm<T>(c.n, c.kn, d, scale, batches.of(qi, c), batches.of(ki, c, true), T(0), batches.scores(0, c), c.hn);
    gemm<T>(c.n, c.kn, dv, T(1), batches.of(gi, c), batches.of(vi, c, true), T(0), batches.scores(1, c), c.hn);
    gradient_rows_kernel<T><<<row_blocks(c), kRowWarps * 32, 0, cuda::stream()>>>(s, dp, c, r, lse_data, delta_data);
    CUDA_CHECK_LAUNCH();
    // gq_c = scale dS K
    gemm<T>(c.n, d, c.kn, scale, batches.scores(1, c), batches.of(ki, c), T(0), batches.of(gqi, c), c.hn);
    // gk[0, kn) += scale dS^T Q_c
    gemm<T>(c.kn, d, c.n, scale, batches.scores(1, c, true), batches.of(qi, c), T(1), batches.of(gki, c), c.hn);
    // gv[0, kn) += P'^T dO_c
    gemm<T>(c.kn, dv, c.n, T(1), batches.scores(0, c, true), batches.of(gi, c), T(1), batches.of(gvi, c), c.hn);
  });
  tensors.finish();
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
