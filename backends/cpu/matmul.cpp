// CpuBackend::matmul: oneDNN's matmul primitive for f32, the portable loops otherwise.
// oneDNN reads the operands' strides from the memory descriptors, so transposed views cost
// nothing, and broadcasts a batch of 1 itself. Creating a primitive is slow, so each layout's
// primitive is made once and kept.
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/dnnl_context.h"
#include "backends/cpu/matmul_fallback.h"
#include "backends/dense.h"

#ifdef EMBER_HAVE_DNNL
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>
#endif

namespace ember {

#ifdef EMBER_HAVE_DNNL
namespace {

// A [B, R, C] operand as oneDNN should see it.
struct Layout {
  std::array<int64_t, 3> dims, strides;
};

// A stride-0 batch becomes a batch of 1 (oneDNN broadcasts it), and the strides of size-1 dims,
// which address nothing, get the values of a dense layout, which oneDNN's fast paths expect.
// Returns nullopt when the matrix is not one a GEMM can read (no unit stride, or rows overlap),
// or when oneDNN would refuse the strides: its memory descriptors want each stride, in sorted
// order, to span the dims inside it, so a batch stride below rows x row stride (a view sliced
// with a step along the rows, such as [2, 4, 4] with strides [44, 12, 1]) is refused there.
std::optional<Layout> layout_of(const Tensor& t) {
  Layout l{{t.size(0), t.size(1), t.size(2)}, {t.stride(0), t.stride(1), t.stride(2)}};
  auto& [b, r, c] = l.dims;
  auto& [sb, sr, sc] = l.strides;
  if (sb == 0) b = 1;
  if (c == 1) sc = 1;
  if (r == 1) sr = sc == 1 ? c : 1;
  const bool row_major = sc == 1 && sr >= c, col_major = sr == 1 && sc >= r;
  if (!row_major && !col_major) return std::nullopt;
  const int64_t matrix_span = row_major ? sr * r : sc * c;
  if (b == 1) sb = matrix_span;
  else if (sb < matrix_span) return std::nullopt;
  return l;
}

struct Key {
  std::array<int64_t, 15> v;  // a's and c's dims and strides, out's batch, rows and columns
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = 0;
    for (int64_t x : k.v) h = h * 1000003u ^ std::hash<int64_t>()(x);
    return h;
  }
};

dnnl::memory::desc desc_of(const std::array<int64_t, 3>& dims, const std::array<int64_t, 3>& strides) {
  return dnnl::memory::desc({dims[0], dims[1], dims[2]}, dnnl::memory::data_type::f32,
                            dnnl::memory::dims{strides[0], strides[1], strides[2]});
}

struct Prepared {
  dnnl::matmul primitive;
  dnnl::memory::desc a, c, out, scratchpad;
};

// The user-managed scratchpad lets threads run one cached primitive at the same time: each
// brings its own scratch memory.
std::shared_ptr<const Prepared> prepare(const Layout& a, const Layout& c, const std::array<int64_t, 3>& out_dims) {
  auto p = std::make_shared<Prepared>();
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  try {
    // The descriptors too may throw on strides oneDNN does not take: the caller copies then.
    p->a = desc_of(a.dims, a.strides);
    p->c = desc_of(c.dims, c.strides);
    p->out = desc_of(out_dims, {out_dims[1] * out_dims[2], out_dims[2], 1});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p->a, p->c, p->out), attr, cpu::dnnl_engine());
    p->scratchpad = pd.scratchpad_desc();
    p->primitive = dnnl::matmul(pd);
  } catch (const dnnl::error&) {
    return nullptr;  // a layout oneDNN has no implementation for: the fallback takes it
  }
  return p;
}

// The cached primitive for this layout, or null when oneDNN cannot run it.
std::shared_ptr<const Prepared> cached(const Layout& a, const Layout& c, const std::array<int64_t, 3>& out_dims) {
  static std::mutex mutex;
  static std::unordered_map<Key, std::shared_ptr<const Prepared>, KeyHash> cache;
  Key key{{a.dims[0], a.dims[1], a.dims[2], a.strides[0], a.strides[1], a.strides[2], c.dims[0], c.dims[1], c.dims[2],
           c.strides[0], c.strides[1], c.strides[2], out_dims[0], out_dims[1], out_dims[2]}};
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, prepare(a, c, out_dims)).first;
  return it->second;
}

void* scratch(size_t bytes) {
  thread_local std::vector<std::byte> buffer;
  constexpr size_t align = 64;
  if (buffer.size() < bytes + align) buffer.resize(bytes + align);
  void* p = buffer.data();
  size_t space = buffer.size();
  return std::align(align, bytes, p, space);
}

// out = a @ c through oneDNN. An operand whose layout oneDNN cannot read (or a pair it has no
// kernel for) is copied into a dense one first; false only when even dense operands fail.
bool dnnl_matmul(Backend& backend, const Tensor& a_in, const Tensor& c_in, const Tensor& out) {
  Tensor a = a_in, c = c_in;
  std::optional<Layout> la = layout_of(a), lc = layout_of(c);
  if (!la) la = layout_of(a = dense(backend, a_in));
  if (!lc) lc = layout_of(c = dense(backend, c_in));
  if (!la || !lc) return false;
  auto p = cached(*la, *lc, {out.size(0), out.size(1), out.size(2)});
  if (!p && !(a.is_contiguous() && c.is_contiguous())) {
    a = dense(backend, a);
    c = dense(backend, c);
    la = layout_of(a);
    lc = layout_of(c);
    if (!la || !lc) return false;
    p = cached(*la, *lc, {out.size(0), out.size(1), out.size(2)});
  }
  if (!p) return false;
  dnnl::engine& e = cpu::dnnl_engine();
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(p->a, e, a.data_ptr())},
                                             {DNNL_ARG_WEIGHTS, dnnl::memory(p->c, e, c.data_ptr())},
                                             {DNNL_ARG_DST, dnnl::memory(p->out, e, out.data_ptr())}};
  if (size_t bytes = p->scratchpad.get_size())
    args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(p->scratchpad, e, scratch(bytes)));
  dnnl::stream& stream = cpu::dnnl_stream();
  p->primitive.execute(stream, args);
  stream.wait();
  return true;
}

}  // namespace
#endif

void CpuBackend::matmul(const Tensor& a, const Tensor& c, const Tensor& out) {
  if (out.numel() == 0) return;
#ifdef EMBER_HAVE_DNNL
  // K == 0 is a zero fill, which the fallback does; oneDNN rejects empty operands.
  if (out.dtype() == DType::F32 && a.size(2) > 0 && out.is_contiguous() && dnnl_matmul(*this, a, c, out)) return;
#endif
  cpu::matmul_fallback(a, c, out);
}

}  // namespace ember
