#pragma once
// Shapes and strides, counted in elements, with NumPy broadcasting.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace ember {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// Throws naming `op` unless every size is non-negative and the product of the non-zero sizes
// fits in int64 (so that every stride, extent and element count does).
void check_shape(const Shape& shape, const char* op);
// The element count; throws (as check_shape) on a negative or overflowing shape.
int64_t numel_of(const Shape& shape);
// numel x element_size, checked against int64 overflow; throws naming `op`.
int64_t checked_bytes(const Shape& shape, size_t element_size, const char* op);
// Row-major strides; throws when a stride would overflow int64.
Strides contiguous_strides(const Shape& shape);
std::string to_string(const Shape& shape);
// Broadcasts two shapes by NumPy's rules; `op` names the caller in the error.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Maps a possibly negative dim into [0, rank); throws naming `op` when out of range.
int normalize_dim(int64_t dim, size_t rank, const char* op);

}  // namespace ember

namespace std {
// Lets shapes appear in error messages directly: fail("op: ", shape).
inline ostream& operator<<(ostream& os, const vector<int64_t>& s) { return os << ember::to_string(s); }
}  // namespace std
