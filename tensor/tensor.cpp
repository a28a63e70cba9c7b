#include "tensor/tensor.h"

#include <cstring>

namespace ember {

TensorImpl& Tensor::checked() const {
  if (!impl_) fail("tensor: use of an undefined (empty) tensor handle");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim(d, shape().size(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[normalize_dim(d, shape().size(), "stride")]; }

bool Tensor::is_contiguous() const {
  const Shape& s = shape();
  const Strides& st = strides();
  int64_t expected = 1;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= s[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  return static_cast<char*>(storage()->data()) + offset() * static_cast<int64_t>(dtype_size(dtype()));
}

const Tensor& Tensor::set_requires_grad(bool value) const {
  check(!value || is_floating(dtype()), "requires_grad: only floating tensors can require gradients, got ", dtype());
  check(is_leaf() || value, "requires_grad: cannot turn off requires_grad of a non-leaf tensor; use detach()");
  checked().requires_grad = value;
  return *this;
}

double Tensor::item() const {
  check(numel() == 1, "item: tensor of shape ", shape(), " has ", numel(), " elements, expected 1");
  return to_vector<double>()[0];
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  const int64_t n = numel();
  std::vector<T> out(static_cast<size_t>(n));
  if (n == 0) return out;
  const size_t esize = dtype_size(dtype());
  // Bring the whole span the view touches to the host, then walk it with the strides.
  int64_t lo = 0, hi = 0;
  for (size_t d = 0; d < shape().size(); ++d) {
    int64_t extent = (shape()[d] - 1) * strides()[d];
    (extent < 0 ? lo : hi) += extent;
  }
  std::vector<char> host(static_cast<size_t>(hi - lo + 1) * esize);
  const char* first = static_cast<const char*>(data_ptr()) + lo * static_cast<int64_t>(esize);
  copy_bytes(host.data(), Device::cpu(), first, device(), host.size());
  dispatch_all(dtype(), [&]<typename S>() {
    const S* base = reinterpret_cast<const S*>(host.data()) - lo;
    const size_t rank = shape().size();
    std::vector<int64_t> idx(rank, 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t pos = 0;
      for (size_t d = 0; d < rank; ++d) pos += idx[d] * strides()[d];
      out[static_cast<size_t>(i)] = convert_value<T>(static_cast<compute_t<S>>(base[pos]));
      for (size_t d = rank; d-- > 0;) {
        if (++idx[d] < shape()[d]) break;
        idx[d] = 0;
      }
    }
  });
  return out;
}

template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

Tensor as_strided(const Tensor& base, Shape shape, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(impl);
}

Tensor broadcast_view(const Tensor& t, const Shape& shape, const char* op) {
  if (t.shape() == shape) return t;
  check(shape.size() >= t.shape().size(), op, ": cannot broadcast shape ", t.shape(), " to ", shape);
  check_shape(shape, op);
  const size_t lead = shape.size() - t.shape().size();
  Strides strides(shape.size(), 0);
  for (size_t i = 0; i < t.shape().size(); ++i) {
    int64_t have = t.shape()[i], want = shape[lead + i];
    check(have == want || have == 1, op, ": cannot broadcast shape ", t.shape(), " to ", shape);
    strides[lead + i] = have == want ? t.strides()[i] : 0;
  }
  return as_strided(t, shape, std::move(strides), t.offset());
}

Tensor detach(const Tensor& t) { return as_strided(t, t.shape(), t.strides(), t.offset()); }

}  // namespace ember
