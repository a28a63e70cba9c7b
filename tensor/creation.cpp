#include "tensor/creation.h"

#include <cmath>
#include <cstring>

#include "tensor/random.h"

namespace ember {
namespace {

// Fills a new tensor on the host with value(i) for element i, then moves it to the device.
// value depends on i alone (Philox draws too), so large fills run on all threads.
template <typename Value>
Tensor make(const Shape& shape, TensorOptions options, const char* op, Value value) {
  checked_bytes(shape, dtype_size(options.dtype), op);
  TensorOptions host = options;
  host.device = Device::cpu();
  host.requires_grad = false;
  Tensor t = empty(shape, host);
  const int64_t n = t.numel();
  dispatch_all(options.dtype, [&]<typename T>() {
    T* p = t.data<T>();
#pragma omp parallel for if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(convert_value<compute_t<T>>(value(i)));
  });
  if (!options.device.is_cpu()) {
    Tensor d = empty(shape, options);
    copy_bytes(d.data_ptr(), d.device(), t.data_ptr(), t.device(), static_cast<size_t>(n) * dtype_size(options.dtype));
    t = d;
  }
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

}  // namespace

Tensor empty(const Shape& shape, TensorOptions options) {
  const int64_t bytes = checked_bytes(shape, dtype_size(options.dtype), "empty");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(bytes), options.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype;
  Tensor t(impl);
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

// On a device the constant is written there (a memset or a fill kernel), not copied over.
Tensor full(const Shape& shape, double value, TensorOptions options) {
  if (options.device.is_cpu()) return make(shape, options, "full", [value](int64_t) { return value; });
  checked_bytes(shape, dtype_size(options.dtype), "full");
  Tensor t = empty(shape, {.dtype = options.dtype, .device = options.device});
  unsigned char element[8] = {};
  dispatch_all(options.dtype, [&]<typename T>() {
    const T v = static_cast<T>(convert_value<compute_t<T>>(value));
    static_assert(sizeof(T) <= sizeof(element));
    std::memcpy(element, &v, sizeof(T));
  });
  if (t.numel() > 0)
    allocator_for(options.device).fill(t.data_ptr(), static_cast<size_t>(t.numel()), dtype_size(options.dtype), element);
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }
Tensor scalar(double value, TensorOptions options) { return full({}, value, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  check(std::isfinite(start) && std::isfinite(end) && std::isfinite(step), "arange: start ", start, ", end ", end,
        " and step ", step, " must be finite");
  check(step != 0, "arange: step must be non-zero");
  const double count = std::ceil((end - start) / step);  // may overflow to inf: checked next
  // 2^53: beyond it consecutive values are no longer distinct doubles (and no memory holds it).
  check(count <= 9007199254740992.0, "arange: [", start, ", ", end, ") in steps of ", step, " has ", count,
        " elements, too many");
  const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  return make({n}, options, "arange", [=](int64_t i) { return start + step * static_cast<double>(i); });
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  check(steps >= 0, "linspace: steps must be non-negative, got ", steps);
  double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  return make({steps}, options, "linspace", [=](int64_t i) { return start + step * static_cast<double>(i); });
}

Tensor eye(int64_t n, TensorOptions options) {
  return make({n, n}, options, "eye", [n](int64_t i) { return i / n == i % n ? 1.0 : 0.0; });
}

Tensor rand(const Shape& shape, TensorOptions options) {
  GeneratorState s = next_stream();
  // philox_uniform is in (0, 1]; 1 - u is in [0, 1), as documented.
  return make(shape, options, "rand", [s](int64_t i) { return 1.0 - philox_uniform(s.seed, s.offset, static_cast<uint64_t>(i)); });
}

Tensor randn(const Shape& shape, TensorOptions options) {
  GeneratorState s = next_stream();
  return make(shape, options, "randn", [s](int64_t i) { return philox_normal(s.seed, s.offset, static_cast<uint64_t>(i)); });
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options) {
  check(high > low, "randint: empty range [", low, ", ", high, ")");
  GeneratorState s = next_stream();
  const uint64_t span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);  // no signed overflow
  return make(shape, options, "randint", [=](int64_t i) {
    Philox4 bits = philox4x32(static_cast<uint64_t>(i), s.offset, s.seed);
    uint64_t r = bits.v[0] | (static_cast<uint64_t>(bits.v[1]) << 32);
    return static_cast<double>(static_cast<int64_t>(static_cast<uint64_t>(low) + r % span));
  });
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  check(static_cast<int64_t>(values.size()) == numel_of(shape), "from_vector: ", values.size(),
        " values do not fill shape ", shape, " (", numel_of(shape), " elements)");
  return make(shape, options, "from_vector", [&](int64_t i) { return static_cast<double>(values[static_cast<size_t>(i)]); });
}

template Tensor from_vector<float>(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, TensorOptions);

}  // namespace ember
