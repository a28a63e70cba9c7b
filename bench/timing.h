#pragma once
// Median wall time of repeated runs, after warm-up: the one timing rule of every benchmark.
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace ember::bench {

// `setup` runs untimed before each run of `fn`.
inline double median_ms(const std::function<void()>& setup, const std::function<void()>& fn, int warmup = 3,
                        int repeats = 15) {
  for (int i = 0; i < warmup; ++i) {
    setup();
    fn();
  }
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    setup();
    auto t0 = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

inline double median_ms(const std::function<void()>& fn, int warmup = 3, int repeats = 15) {
  return median_ms([] {}, fn, warmup, repeats);
}

}  // namespace ember::bench
