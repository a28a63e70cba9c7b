#pragma once
// The search for the effective model complexity (EMC): the largest training-set size n that a
// model fits. Each probe of n trains a fresh model on a fresh subset, so the answer is
// random; the search treats "fits n" as if it were monotone in n, which it is in expectation.
#include <cstdint>
#include <functional>
#include <string>

namespace ember::emc {

struct SearchOptions {
  enum class Mode { Bisection, LogGrid };
  Mode mode = Mode::Bisection;
  int64_t start = 32;    // the first n probed
  int64_t max_n = 1024;  // the most samples available: fitting these ends the search
  // Bisection: stop when the bracket [fit, not fit] is narrower than this fraction of its
  // lower end (and at least one sample).
  double tolerance = 0.1;
  int64_t grid_per_octave = 4;  // LogGrid: probes per doubling of n
};

struct SearchResult {
  int64_t emc = 0;            // the largest n that fitted (0 if none did)
  int64_t first_failure = 0;  // the smallest n that did not fit (0 if all did)
  bool censored = false;      // fitted max_n: the EMC is at least max_n
  int probes = 0;
};

// probe(n) trains on n samples and says whether the model fitted them.
using Probe = std::function<bool(int64_t n)>;

// Bisection mode doubles n from `start` until a probe fails (halving instead while the first
// probes fail), then bisects the bracket. LogGrid mode walks a geometric grid up from `start`
// to the first failure (or down to the first fit, if `start` fails).
SearchResult find_emc(const Probe& probe, const SearchOptions& options);

}  // namespace ember::emc
