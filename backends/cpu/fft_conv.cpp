// Causal long convolution (the Hyena operator's core) on the CPU, through FFTs.
//
// Library: FFTW 3 (Debian libfftw3-dev), single and double precision. FFTW's planner picks
// codelets for this machine and handles every length 2^a 3^b 5^c 7^d fast, so padding only goes
// to the next such size >= L + K - 1 (8192 for L = K = 4096, 40 for L = K = 19).
// Measured on the 2-core dev machine (shared, so wall times are the best of 15 runs and CPU
// times the median, both threads summed) against PyTorch 1.13's torch.fft rfft/irfft (n = 2L,
// pocketfft inside) on 2 threads, 256 channels, L = 4096, f32, forward + backward:
//   batch 1: ember 34 ms wall / 45 ms CPU, torch 242 ms wall / 194 ms CPU;
//   batch 4: ember 111 ms wall / 86 ms CPU, torch 681 ms wall / 490 ms CPU.
// (On an idle 16-core host, 2 threads: 19 ms at batch 1, 64 ms at batch 4.) Plans use
// FFTW_MEASURE: about 20% less CPU time than FFTW_ESTIMATE at this size, for a one-time cost of
// up to ~1.5 s per new length on the loaded dev machine (milliseconds for short lengths).
//
// How: one channel at a time per thread (OpenMP over channels). A thread transforms the
// channel's filter once, then each batch row: zero-padded copy in (any strides, converted to the
// compute type), r2c, multiply spectra, c2r, copy out adding the D skip term. A channel's
// buffers (a few times 8 n bytes) stay in cache, and the backward sums dk's spectrum over the
// batch before a single inverse transform. Plans are made once per length under a mutex (FFTW's
// planner is not thread-safe) and run through the new-array interface, which is. Without FFTW
// the same sums run directly, O(L K) per row.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "backends/channel_rows.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided.h"

#ifdef EMBER_HAVE_FFTW
#include <fftw3.h>

#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#endif

namespace ember {
namespace {

using channel_rows::Rows;
using channel_rows::rows_of;

// D[c] in the compute type, 0 when D is undefined.
template <typename T, typename R>
R skip_of(const Tensor& d, int64_t c) {
  return d.defined() ? static_cast<R>(static_cast<const T*>(d.data_ptr())[c * d.stride(0)]) : R(0);
}

// The sizes of one call; `parallel` says whether waking the thread team pays off.
struct Geometry {
  int64_t batch, channels, length, taps;
  bool parallel(int64_t work_per_row) const {
    return channels > 1 && batch * channels * work_per_row >= cpu::kParallelGrain;
  }
};

Geometry geometry_of(const Tensor& u_like, const Tensor& k) {
  return {u_like.size(0), u_like.size(1), u_like.size(2), k.size(1)};
}

#ifdef EMBER_HAVE_FFTW

// The smallest 2^a 3^b 5^c 7^d >= n: the lengths FFTW's codelets handle best.
int64_t fast_length(int64_t n) {
  for (int64_t m = std::max<int64_t>(n, 1);; ++m) {
    int64_t r = m;
    for (int64_t p : {2, 3, 5, 7})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

template <typename R>
struct Fftw;
template <>
struct Fftw<float> {
  using Plan = fftwf_plan;
  using Complex = fftwf_complex;
  static Plan r2c(int n, float* in, Complex* out) { return fftwf_plan_dft_r2c_1d(n, in, out, FFTW_MEASURE); }
  static Plan c2r(int n, Complex* in, float* out) { return fftwf_plan_dft_c2r_1d(n, in, out, FFTW_MEASURE); }
  static void run(Plan p, float* in, Complex* out) { fftwf_execute_dft_r2c(p, in, out); }
  static void run(Plan p, Complex* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
  static void destroy(Plan p) { fftwf_destroy_plan(p); }
  static void* alloc(size_t bytes) { return fftwf_malloc(bytes); }
  static void release(void* p) { fftwf_free(p); }
};
template <>
struct Fftw<double> {
  using Plan = fftw_plan;
  using Complex = fftw_complex;
  static Plan r2c(int n, double* in, Complex* out) { return fftw_plan_dft_r2c_1d(n, in, out, FFTW_MEASURE); }
  static Plan c2r(int n, Complex* in, double* out) { return fftw_plan_dft_c2r_1d(n, in, out, FFTW_MEASURE); }
  static void run(Plan p, double* in, Complex* out) { fftw_execute_dft_r2c(p, in, out); }
  static void run(Plan p, Complex* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
  static void destroy(Plan p) { fftw_destroy_plan(p); }
  static void* alloc(size_t bytes) { return fftw_malloc(bytes); }
  static void release(void* p) { fftw_free(p); }
};

// A SIMD-aligned array from FFTW's allocator: the new-array execute functions need the alignment
// the plans were made with, and every FFTW allocation has the same one.
template <typename R>
class Aligned {
 public:
  explicit Aligned(int64_t count) : data_(static_cast<R*>(Fftw<R>::alloc(static_cast<size_t>(count) * sizeof(R)))) {
    if (data_ == nullptr) throw std::bad_alloc();
  }
  ~Aligned() { Fftw<R>::release(data_); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
  R* get() const { return data_; }
  typename Fftw<R>::Complex* complex() const { return reinterpret_cast<typename Fftw<R>::Complex*>(data_); }

 private:
  R* data_;
};

// The forward (r2c) and inverse (c2r, unnormalised) transforms of one length.
template <typename R>
struct Plans {
  int64_t n;
  typename Fftw<R>::Plan forward, inverse;
  explicit Plans(int64_t length) : n(length) {
    // FFTW_MEASURE times candidate algorithms on scratch arrays (it overwrites them).
    Aligned<R> real(n), spectrum(2 * (n / 2 + 1));
    forward = Fftw<R>::r2c(static_cast<int>(n), real.get(), spectrum.complex());
    inverse = Fftw<R>::c2r(static_cast<int>(n), spectrum.complex(), real.get());
    if (forward == nullptr || inverse == nullptr) fail("fft_conv: FFTW could not plan a transform of length ", n);
  }
  ~Plans() {
    Fftw<R>::destroy(forward);
    Fftw<R>::destroy(inverse);
  }
  Plans(const Plans&) = delete;
  Plans& operator=(const Plans&) = delete;
};

std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

// Plans live for the whole process, one pair per (precision, length).
template <typename R>
const Plans<R>& plans_for(int64_t n) {
  static std::map<int64_t, std::unique_ptr<Plans<R>>> cache;
  check(n <= INT_MAX, "fft_conv: transform length ", n, " is too long for FFTW");
  std::lock_guard lock(planner_mutex());
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<Plans<R>>(n);
  return *slot;
}

// One thread's buffers: a real row and four spectra of n / 2 + 1 complex numbers.
template <typename R>
struct Workspace {
  Aligned<R> real, filter, signal, other, sum;
  explicit Workspace(int64_t n)
      : real(n), filter(2 * (n / 2 + 1)), signal(2 * (n / 2 + 1)), other(2 * (n / 2 + 1)), sum(2 * (n / 2 + 1)) {}
};

template <typename R>
std::vector<std::unique_ptr<Workspace<R>>> workspaces(int64_t n, bool parallel) {
  std::vector<std::unique_ptr<Workspace<R>>> ws(parallel ? static_cast<size_t>(omp_get_max_threads()) : 1);
  for (auto& w : ws) w = std::make_unique<Workspace<R>>(n);
  return ws;
}

// out = the spectrum of src[0..count) (stride `step`) zero-padded to the plans' length.
template <typename T, typename R>
void spectrum(const Plans<R>& plans, const T* src, int64_t count, int64_t step, R* real, Aligned<R>& out) {
  for (int64_t i = 0; i < count; ++i) real[i] = static_cast<R>(src[i * step]);
  std::fill(real + count, real + plans.n, R(0));
  Fftw<R>::run(plans.forward, real, out.complex());
}

// acc (+)= a * b (conj(b) when `conjugate`) * scale, over interleaved complex arrays.
template <typename R>
void multiply(const R* a, const R* b, R* acc, int64_t complex_count, R scale, bool conjugate, bool accumulate) {
  const R sign = conjugate ? R(-1) : R(1);
#pragma omp simd
  for (int64_t i = 0; i < complex_count; ++i) {
    const R ar = a[2 * i], ai = a[2 * i + 1], br = b[2 * i], bi = sign * b[2 * i + 1];
    const R re = (ar * br - ai * bi) * scale, im = (ar * bi + ai * br) * scale;
    acc[2 * i] = accumulate ? acc[2 * i] + re : re;
    acc[2 * i + 1] = accumulate ? acc[2 * i + 1] + im : im;
  }
}

// dst[t] = real[t] (the first `count` samples of the inverse transform of `spec`) + skip * extra[t].
template <typename T, typename R>
void inverse_to(const Plans<R>& plans, Aligned<R>& spec, R* real, T* dst, int64_t count, R skip, const T* extra,
                int64_t extra_step) {
  Fftw<R>::run(plans.inverse, spec.complex(), real);
  for (int64_t t = 0; t < count; ++t)
    dst[t] = static_cast<T>(extra ? real[t] + skip * static_cast<R>(extra[t * extra_step]) : real[t]);
}

template <typename T>
void forward(const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& y) {
  using R = compute_t<T>;
  const Geometry g = geometry_of(u, k);
  const int64_t n = fast_length(g.length + g.taps - 1), half = n / 2 + 1;
  const Plans<R>& plans = plans_for<R>(n);
  const bool parallel = g.parallel(n);
  auto ws = workspaces<R>(n, parallel);
  const Rows<const T> ur = rows_of<const T>(u), kr = rows_of<const T>(k);
  const Rows<T> yr = rows_of<T>(y);
  const R scale = R(1) / static_cast<R>(n);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t c = 0; c < g.channels; ++c) {
    Workspace<R>& w = *ws[static_cast<size_t>(omp_get_thread_num())];
    spectrum(plans, kr.row(0, c), g.taps, kr.step, w.real.get(), w.filter);
    const R skip = skip_of<T, R>(d, c);
    for (int64_t b = 0; b < g.batch; ++b) {
      const T* src = ur.row(b, c);
      spectrum(plans, src, g.length, ur.step, w.real.get(), w.signal);
      multiply(w.signal.get(), w.filter.get(), w.signal.get(), half, scale, false, false);
      inverse_to(plans, w.signal, w.real.get(), yr.row(b, c), g.length, skip, d.defined() ? src : nullptr, ur.step);
    }
  }
}

template <typename T>
void backward(const Tensor& gy, const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& gu,
              const Tensor& gk, const Tensor& gd) {
  using R = compute_t<T>;
  const Geometry g = geometry_of(gy, k);
  const int64_t n = fast_length(g.length + g.taps - 1), half = n / 2 + 1;
  const Plans<R>& plans = plans_for<R>(n);
  const bool parallel = g.parallel(n);
  auto ws = workspaces<R>(n, parallel);
  const Rows<const T> gr = rows_of<const T>(gy), ur = rows_of<const T>(u), kr = rows_of<const T>(k);
  const Rows<T> gur = rows_of<T>(gu), gkr = rows_of<T>(gk);
  const R scale = R(1) / static_cast<R>(n);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t c = 0; c < g.channels; ++c) {
    Workspace<R>& w = *ws[static_cast<size_t>(omp_get_thread_num())];
    R* real = w.real.get();
    if (gu.defined()) spectrum(plans, kr.row(0, c), g.taps, kr.step, real, w.filter);
    const R skip = skip_of<T, R>(d, c);
    double dot = 0;
    for (int64_t b = 0; b < g.batch; ++b) {
      const T* grad = gr.row(b, c);
      spectrum(plans, grad, g.length, gr.step, real, w.signal);
      if (gk.defined()) {
        spectrum(plans, ur.row(b, c), g.length, ur.step, real, w.other);
        multiply(w.signal.get(), w.other.get(), w.sum.get(), half, scale, true, b > 0);
      }
      if (gd.defined()) {
        const T* x = ur.row(b, c);
        for (int64_t t = 0; t < g.length; ++t)
          dot += static_cast<double>(grad[t * gr.step]) * static_cast<double>(x[t * ur.step]);
      }
      if (gu.defined()) {
        multiply(w.signal.get(), w.filter.get(), w.signal.get(), half, scale, true, false);
        inverse_to(plans, w.signal, real, gur.row(b, c), g.length, skip, d.defined() ? grad : nullptr, gr.step);
      }
    }
    if (gk.defined()) {
      if (g.batch == 0) std::fill(w.sum.get(), w.sum.get() + 2 * half, R(0));
      inverse_to<T, R>(plans, w.sum, real, gkr.row(0, c), g.taps, R(0), nullptr, 0);
    }
    if (gd.defined()) static_cast<T*>(gd.data_ptr())[c * gd.stride(0)] = static_cast<T>(dot);
  }
}

#else  // no FFTW: the sums directly

template <typename T>
void forward(const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& y) {
  using R = compute_t<T>;
  const Geometry g = geometry_of(u, k);
  const Rows<const T> ur = rows_of<const T>(u), kr = rows_of<const T>(k);
  const Rows<T> yr = rows_of<T>(y);
#pragma omp parallel for collapse(2) schedule(static) if (g.parallel(g.length * g.taps))
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t c = 0; c < g.channels; ++c) {
      const T *x = ur.row(b, c), *f = kr.row(0, c);
      const R skip = skip_of<T, R>(d, c);
      for (int64_t t = 0; t < g.length; ++t) {
        R acc = skip * static_cast<R>(x[t * ur.step]);
        for (int64_t s = 0; s <= std::min(t, g.taps - 1); ++s)
          acc += static_cast<R>(f[s * kr.step]) * static_cast<R>(x[(t - s) * ur.step]);
        yr.row(b, c)[t] = static_cast<T>(acc);
      }
    }
}

template <typename T>
void backward(const Tensor& gy, const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& gu,
              const Tensor& gk, const Tensor& gd) {
  using R = compute_t<T>;
  const Geometry g = geometry_of(gy, k);
  const Rows<const T> gr = rows_of<const T>(gy), ur = rows_of<const T>(u), kr = rows_of<const T>(k);
  const Rows<T> gur = rows_of<T>(gu), gkr = rows_of<T>(gk);
#pragma omp parallel for schedule(static) if (g.parallel(g.length * g.taps))
  for (int64_t c = 0; c < g.channels; ++c) {
    const R skip = skip_of<T, R>(d, c);
    std::vector<double> taps(static_cast<size_t>(g.taps), 0.0);
    double dot = 0;
    for (int64_t b = 0; b < g.batch; ++b) {
      const T* grad = gr.row(b, c);
      for (int64_t t = 0; t < g.length; ++t) {
        const double gt = static_cast<double>(grad[t * gr.step]);
        if (gk.defined() || gd.defined()) {
          const T* x = ur.row(b, c);
          for (int64_t s = 0; gk.defined() && s <= std::min(t, g.taps - 1); ++s)
            taps[static_cast<size_t>(s)] += gt * static_cast<double>(x[(t - s) * ur.step]);
          dot += gt * static_cast<double>(x[t * ur.step]);
        }
        if (gu.defined()) {
          R acc = skip * static_cast<R>(grad[t * gr.step]);
          for (int64_t s = 0; s < g.taps && t + s < g.length; ++s)
            acc += static_cast<R>(kr.row(0, c)[s * kr.step]) * static_cast<R>(grad[(t + s) * gr.step]);
          gur.row(b, c)[t] = static_cast<T>(acc);
        }
      }
    }
    for (int64_t s = 0; gk.defined() && s < g.taps; ++s) gkr.row(0, c)[s] = static_cast<T>(taps[static_cast<size_t>(s)]);
    if (gd.defined()) static_cast<T*>(gd.data_ptr())[c * gd.stride(0)] = static_cast<T>(dot);
  }
}

#endif

}  // namespace

void CpuBackend::fft_conv(const Tensor& u, const Tensor& k, const Tensor& d, const Tensor& y, FftSpectra* /*keep*/) {
  dispatch_floating(u.dtype(), "fft_conv", [&]<typename T>() { forward<T>(u, k, d, y); });
}

void CpuBackend::fft_conv_backward(const Tensor& gy, const Tensor& u, const Tensor& k, const Tensor& d,
                                   const Tensor& gu, const Tensor& gk, const Tensor& gd, const FftSpectra* /*kept*/) {
  dispatch_floating(gy.dtype(), "fft_conv_backward", [&]<typename T>() { backward<T>(gy, u, k, d, gu, gk, gd); });
}

}  // namespace ember
