#include "autograd/fft_conv.h"

#include <cmath>
#include <memory>

#include "autograd/flops.h"
#include "autograd/grad_mode.h"
#include "autograd/dispatch.h"
#include "autograd/record.h"

namespace ember {
namespace {

constexpr const char* kOp = "fft_conv";

void check_operands(const Tensor& u, const Tensor& k, const Tensor& D) {
  check(u.dim() == 3, kOp, ": input ", u.shape(), " must be [B, C, L]");
  check(k.dim() == 2, kOp, ": filter ", k.shape(), " must be [C, K]");
  dispatch::check_floating(kOp, u);
  dispatch::check_same(kOp, u, k);
  check(k.size(0) == u.size(1), kOp, ": input ", u.shape(), " has ", u.size(1), " channels, filter ", k.shape(),
        " has ", k.size(0));
  check(k.size(1) >= 1 && k.size(1) <= u.size(2), kOp, ": filter ", k.shape(), " must have 1 to L = ", u.size(2),
        " taps (input ", u.shape(), ")");
  if (!D.defined()) return;
  dispatch::check_same(kOp, u, D);
  check(D.shape() == Shape{u.size(1)}, kOp, ": skip term D ", D.shape(), " must be [", u.size(1),
        "], one per channel of input ", u.shape());
}

// The FLOP model of flops.h: transforms of length n = the smallest 2^a 3^b 5^c 7^d >= L + K - 1
// at 5 n log2 n each, complex products over the n / 2 + 1 bins at 6 (8 when accumulated).
struct FftFlops {
  double rows, channels, elements, transform, products;

  FftFlops(const Tensor& u, const Tensor& k) {
    int64_t n = u.size(2) + k.size(1) - 1;
    for (;; ++n) {
      int64_t r = n;
      for (int64_t p : {2, 3, 5, 7})
        while (r % p == 0) r /= p;
      if (r == 1) break;
    }
    const auto nd = static_cast<double>(n);
    rows = static_cast<double>(u.size(0) * u.size(1));
    channels = static_cast<double>(u.size(1));
    elements = static_cast<double>(u.numel());
    transform = 5 * nd * std::log2(nd);
    products = rows * static_cast<double>(n / 2 + 1);
  }
  // Transforms of u and k, products, inverses, and the skip term.
  double forward(bool skip) const {
    return (2 * rows + channels) * transform + 6 * products + (skip ? 2 * elements : 0);
  }
  // The gradients' transforms; du: products with k's spectra, inverses, skip; dk: accumulated
  // products with u's spectra, one inverse per channel; dD: a dot product; and the transforms of
  // k (for du) and u (for dk) the backend did not keep.
  double backward(bool du, bool dk, bool dd, bool skip, const Backend::FftSpectra& kept) const {
    double f = du || dk ? rows * transform : 0;
    if (du) f += 6 * products + rows * transform + (skip ? 2 * elements : 0) + (kept.k.defined() ? 0 : channels * transform);
    if (dk) f += 8 * products + channels * transform + (kept.u.defined() ? 0 : rows * transform);
    if (dd) f += 2 * elements;
    return f;
  }
};

}  // namespace

Tensor fft_conv(const Tensor& u, const Tensor& k, const Tensor& D) {
  check_operands(u, k, D);
  Tensor y = dispatch::empty_like(u, u.shape());
  const bool need_u = u.requires_grad(), need_k = k.requires_grad(), need_d = D.defined() && D.requires_grad();
  // The transforms of u and k the backend kept (if any), reused by the backward, and only when
  // one will run: gradients recorded, not under no_grad.
  auto spectra = std::make_shared<Backend::FftSpectra>();
  const bool keep = grad_enabled() && (need_u || need_k || need_d);
  backend_for(u.device()).fft_conv(u, k, D, y, keep ? spectra.get() : nullptr);
  const FftFlops flops(u, k);
  count_flops(kOp, flops.forward(D.defined()));
  // du needs k and D; dk and dD need u.
  return record(kOp, y, {u, k, D},
                [su = Saved(need_k || need_d ? u : Tensor(), kOp), sk = Saved(k, kOp),
                 sd = Saved(need_u ? D : Tensor(), kOp), spectra, need_u, need_k, need_d, flops](const Tensor& g) {
                  const Tensor uv = su.get(), kv = sk.get(), dv = sd.get();
                  Tensor gu = need_u ? dispatch::empty_like(g, g.shape()) : Tensor();
                  Tensor gk = need_k ? dispatch::empty_like(g, kv.shape()) : Tensor();
                  Tensor gd = need_d ? dispatch::empty_like(g, {kv.size(0)}) : Tensor();
                  backend_for(g.device()).fft_conv_backward(g, uv, kv, dv, gu, gk, gd, spectra.get());
                  count_flops(kOp, flops.backward(need_u, need_k, need_d, dv.defined(), *spectra));
                  return std::vector<Tensor>{gu, gk, gd};
                });
}

}  // namespace ember
