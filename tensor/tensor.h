#pragma once
// Tensor: a cheap handle (shared ownership) to storage + shape + strides + offset + dtype,
// plus the autograd metadata (requires_grad, grad, grad_fn). The version counter lives in
// the Storage so that all views of one buffer share it.
#include <memory>
#include <ostream>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace ember {

struct Node;  // autograd graph node (autograd/node.h); tensors only hold a pointer to it
class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::F32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  const Shape& shape() const { return checked().shape; }
  const Strides& strides() const { return checked().strides; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t offset() const { return checked().offset; }
  int64_t numel() const { return numel_of(shape()); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return checked().storage; }

  // Pointer to the first element (storage + offset); device memory for device tensors.
  void* data_ptr() const;
  template <typename T>
  T* data() const {
    check(dtype() == dtype_of<T>::value, "data<", dtype_name(dtype_of<T>::value), ">: tensor has dtype ", dtype());
    return static_cast<T*>(data_ptr());
  }

  // Autograd metadata.
  bool requires_grad() const { return checked().requires_grad; }
  // Marks a leaf as needing a gradient; only floating tensors can.
  const Tensor& set_requires_grad(bool value = true) const;
  Tensor grad() const { return Tensor(checked().grad); }
  void set_grad(const Tensor& g) const { checked().grad = g.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return checked().grad_fn; }
  void set_grad_fn(std::shared_ptr<Node> fn) const { checked().grad_fn = std::move(fn); }
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  uint64_t version() const { return storage()->version(); }
  void bump_version() const { storage()->bump_version(); }

  // The single element as a double (any dtype, any device; a device read synchronises).
  double item() const;
  // All elements in row-major order, converted to T, copied to the host.
  template <typename T>
  std::vector<T> to_vector() const;

 private:
  TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

// A tensor sharing `base`'s storage with another shape/strides/offset (no autograd).
Tensor as_strided(const Tensor& base, Shape shape, Strides strides, int64_t offset);
// `t` viewed with `shape` by NumPy broadcasting: stride 0 on the broadcast dims (no autograd).
Tensor broadcast_view(const Tensor& t, const Shape& shape, const char* op);
// A new handle to the same data with no autograd history.
Tensor detach(const Tensor& t);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace ember
