#pragma once
// Walking N same-shaped strided operands in parallel: the shared engine of every CPU
// elementwise kernel. Dimensions are collapsed where all operands are jointly contiguous,
// the innermost run is cut into chunks, and chunks are spread over OpenMP threads. The
// kernel sees (count, pointers, inner strides) and writes a plain loop the compiler
// vectorises when every inner stride is 1.
#include <omp.h>

#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace ember::cpu {

template <typename T>
constexpr int64_t esz = static_cast<int64_t>(sizeof(T));

// Below this many elements a loop runs on one thread: waking the team costs more.
constexpr int64_t kParallelGrain = 32768;

template <size_t N>
struct Collapsed {
  Shape shape;
  std::array<Strides, N> strides;
};

template <size_t N>
Collapsed<N> collapse(const Shape& shape, const std::array<const Strides*, N>& strides) {
  Collapsed<N> c;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !c.shape.empty();
    for (size_t k = 0; k < N && merge; ++k)
      merge = c.strides[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      c.shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) c.strides[k].back() = (*strides[k])[d];
    } else {
      c.shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) c.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (c.shape.empty()) {
    c.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) c.strides[k].push_back(1);
  }
  return c;
}

// fn(i) for every i in [0, n): across threads when `parallel`, else on this thread. Small work
// stays out of OpenMP altogether: even a parallel region with if(false) pays libgomp's team
// bookkeeping, a sizeable part of a tiny op.
template <typename Fn>
void parallel_for(int64_t n, bool parallel, Fn&& fn) {
  if (!parallel) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

// fn(int64_t n, std::array<char*, N> ptrs, std::array<int64_t, N> inner_strides) for each run;
// `esize` is each operand's element size, inner strides are in elements.
template <size_t N, typename Fn>
void for_each_run(const Shape& shape, const std::array<const Strides*, N>& strides, std::array<char*, N> base,
                  std::array<int64_t, N> esize, Fn&& fn) {
  const int64_t total = numel_of(shape);
  if (total == 0) return;
  Collapsed<N> c = collapse<N>(shape, strides);
  const size_t rank = c.shape.size();
  const int64_t inner = c.shape.back();
  const int64_t outer = total / inner;
  const int64_t chunk = std::max<int64_t>(4096, std::min<int64_t>(inner, kParallelGrain));
  const int64_t chunks_per_row = (inner + chunk - 1) / chunk;
  const int64_t items = outer * chunks_per_row;
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = c.strides[k][rank - 1];

  auto run = [&](int64_t item) {
    int64_t row = item / chunks_per_row;
    int64_t start = (item % chunks_per_row) * chunk;
    auto ptrs = base;
    int64_t rem = row;
    for (size_t d = rank - 1; d-- > 0;) {
      int64_t i = rem % c.shape[d];
      rem /= c.shape[d];
      for (size_t k = 0; k < N; ++k) ptrs[k] += i * c.strides[k][d] * esize[k];
    }
    for (size_t k = 0; k < N; ++k) ptrs[k] += start * inner_strides[k] * esize[k];
    fn(std::min(chunk, inner - start), ptrs, inner_strides);
  };
  parallel_for(items, total >= kParallelGrain && items > 1, run);
}

}  // namespace ember::cpu
