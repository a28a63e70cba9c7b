#include "nn/layers/attention.h"

#include <sstream>
#include <string>

#include "autograd/attention.h"
#include "autograd/autocast.h"
#include "autograd/elementwise.h"
#include "autograd/index_ops.h"
#include "autograd/linalg.h"
#include "autograd/shape_ops.h"
#include "nn/layers/support.h"
#include "tensor/creation.h"

namespace ember::nn {
namespace {

std::string dropout_text(double p) {
  if (p == 0) return "";
  std::ostringstream os;
  os << "dropout=" << p;
  return os.str();
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(int64_t d_model, int64_t n_heads, bool causal, double dropout, bool bias)
    : Module(describe_call("MultiHeadAttention", d_model, "heads=" + std::to_string(n_heads), causal ? "causal" : "",
                           dropout_text(dropout), bias ? "" : "bias=false")),
      d_model_(d_model),
      n_heads_(n_heads),
      causal_(causal),
      dropout_(dropout) {
  check_positive(describe(), {d_model, n_heads});
  check(d_model % n_heads == 0, describe(), ": d_model ", d_model, " is not divisible by ", n_heads, " heads");
  check(dropout >= 0 && dropout <= 1, describe(), ": dropout must be in [0, 1]");
  qkv_ = register_module("qkv", std::make_shared<Linear>(d_model, 3 * d_model, bias));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(d_model, d_model, bias));
}

void MultiHeadAttention::check_shape(const Tensor& x) const {
  check(x.dim() == 3 && x.size(2) == d_model_, describe(), ": input ", x.shape(), " must be [B, T, ", d_model_, "]");
}

std::array<Tensor, 3> MultiHeadAttention::project(const Tensor& x) const {
  const int64_t batch = x.size(0), length = x.size(1), head_dim = d_model_ / n_heads_;
  // q, k and v each from its rows of the qkv weight ([3d, d], q first): three products instead
  // of one, because three views of one [B, T, 3d] output would each send back a zero-padded
  // [B, T, 3d] gradient, summed and copied again: three times the memory traffic.
  // Under autocast the input and the weight are cast once here, not once per product: the
  // three products then share one bf16 x (whose gradients add up in bf16 and cast back once).
  const auto [xl, weight, bias] = autocast::lower(x, qkv_->weight(), qkv_->bias());
  // (init-captures: clang before 16 cannot capture structured bindings by reference)
  auto one = [&, xl = xl, weight = weight, bias = bias](int64_t i) {  // [B, T, d] -> [B, H, T, dh], a view
    const Tensor b = bias.defined() ? narrow(bias, 0, i * d_model_, d_model_) : Tensor();
    const Tensor p = linear(xl, narrow(weight, 0, i * d_model_, d_model_), b);
    return transpose(view(p, {batch, length, n_heads_, head_dim}), 1, 2);
  };
  return {one(0), one(1), one(2)};
}

Tensor MultiHeadAttention::merge(const Tensor& y) const {
  // The heads merge back into [B, T, d]: the one copy of the layer.
  return (*out_proj_)(reshape(transpose(y, 1, 2), {y.size(0), y.size(2), d_model_}));
}

Tensor MultiHeadAttention::forward(const Tensor& x) { return forward(x, Tensor()); }

Tensor MultiHeadAttention::forward(const Tensor& x, const Tensor& mask) {
  check_shape(x);
  const auto [q, k, v] = project(x);
  return merge(scaled_dot_product_attention(q, k, v, causal_, mask, dropout_, is_training()));
}

Tensor MultiHeadAttention::forward_step(const Tensor& x, StepCache& cache) {
  check(causal_, describe(), ": forward_step needs causal attention");
  check_shape(x);
  const auto [q, k, v] = project(x);
  const int64_t past = cache.keys.defined() ? cache.keys.size(2) : 0, chunk = x.size(1);
  if (past > 0) {
    check(cache.keys.size(0) == x.size(0), describe(), ": forward_step input ", x.shape(),
          " has another batch size than the cached keys ", cache.keys.shape());
    cache.keys = cat({cache.keys, k}, 2);
    cache.values = cat({cache.values, v}, 2);
  } else {
    cache.keys = k;
    cache.values = v;
  }
  // The kernel's causal flag aligns the queries with the first keys, right only when nothing is
  // cached; after a prefix, new query i (position past + i) sees keys j <= past + i: a mask.
  // A single query sees every key and needs none.
  Tensor mask;
  if (past > 0 && chunk > 1) {
    const TensorOptions at{.dtype = DType::I64, .device = x.device()};
    mask = le(unsqueeze(arange(0, static_cast<double>(past + chunk), 1, at), 0),
              unsqueeze(arange(static_cast<double>(past), static_cast<double>(past + chunk), 1, at), 1));
  }
  return merge(scaled_dot_product_attention(q, cache.keys, cache.values, past == 0, mask, dropout_, is_training()));
}

}  // namespace ember::nn
