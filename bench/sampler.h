#pragma once
// A wall-clock sampling profiler for the benchmarks, for machines without perf or nsys: a POSIX
// timer interrupts the calling thread every `period_us` of wall time and records its call stack
// (glibc backtrace). Time the thread spends blocked (a device synchronisation) is sampled too.
// stop() writes one line per sample, leaf first: "module+0xoffset" per frame, or the exported
// symbol name where the dynamic linker knows one, separated by ';'. bench/symbolize.py turns the
// file into a profile of the functions (addr2line on the module offsets).
#include <string>

namespace ember::bench {

class Sampler {
 public:
  // Starts sampling the calling thread; throws std::runtime_error when the timer cannot be made.
  explicit Sampler(std::string path, int period_us = 200);
  ~Sampler();  // stops and writes, once
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Stops the timer and writes the samples; returns how many were taken.
  size_t stop();

 private:
  std::string path_;
  bool running_ = false;
};

}  // namespace ember::bench
