#include "tensor/shape.h"

#include <limits>

#include "tensor/error.h"

namespace ember {

// The one rule for sizes: no dimension is negative, and the product of the non-zero sizes fits
// in int64. Then every contiguous stride, every extent and the element count fit too, whatever
// zeros the shape holds ([0, 2^62, 2^62] is refused as PyTorch refuses it: its strides overflow).
void check_shape(const Shape& shape, const char* op) {
  int64_t n = 1;
  for (int64_t s : shape) {
    if (s < 0) fail(op, ": negative dimension ", s, " in shape ", shape);
    if (s != 0 && __builtin_mul_overflow(n, s, &n))
      fail(op, ": shape ", shape, " has too many elements (the product of its sizes overflows int64)");
  }
}

int64_t numel_of(const Shape& shape) {
  check_shape(shape, "shape");
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

int64_t checked_bytes(const Shape& shape, size_t element_size, const char* op) {
  check_shape(shape, op);
  int64_t bytes = static_cast<int64_t>(element_size);
  for (int64_t s : shape)
    if (__builtin_mul_overflow(bytes, s, &bytes))
      fail(op, ": shape ", shape, " needs more than 2^63 bytes");
  return bytes;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    if (shape[i] < 0) fail("contiguous_strides: negative dimension ", shape[i], " in shape ", shape);
    if (__builtin_mul_overflow(s, std::max<int64_t>(shape[i], 1), &s))
      fail("contiguous_strides: shape ", shape, " has strides that overflow int64");
  }
  return strides;
}

std::string to_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(op, ": shapes ", to_string(a), " and ", to_string(b), " cannot be broadcast (dim ", i, ": ", da,
           " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int normalize_dim(int64_t dim, size_t rank, const char* op) {
  int64_t r = static_cast<int64_t>(rank);
  int64_t d = dim < 0 ? dim + r : dim;
  if (d < 0 || d >= std::max<int64_t>(r, 1))
    fail(op, ": dim ", dim, " is out of range for a tensor of rank ", rank);
  return static_cast<int>(d);
}

}  // namespace ember
