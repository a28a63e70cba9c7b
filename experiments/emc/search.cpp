#include "experiments/emc/search.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace ember::emc {
namespace {

SearchResult bisection(const Probe& probe, const SearchOptions& o) {
  SearchResult r;
  auto test = [&](int64_t n) {
    ++r.probes;
    return probe(n);
  };
  int64_t lo = 0, hi = 0;  // lo fitted (0: nothing yet), hi failed (0: nothing yet)
  int64_t n = std::min(o.start, o.max_n);
  if (test(n)) {
    lo = n;
    while (lo < o.max_n) {
      n = std::min(2 * lo, o.max_n);
      if (!test(n)) {
        hi = n;
        break;
      }
      lo = n;
    }
    if (hi == 0) {
      r.emc = lo;
      r.censored = true;
      return r;
    }
  } else {
    hi = n;
    while (hi > 1) {
      n = hi / 2;
      if (test(n)) {
        lo = n;
        break;
      }
      hi = n;
    }
    if (lo == 0) {
      r.first_failure = hi;
      return r;
    }
  }
  while (hi - lo > std::max<int64_t>(1, static_cast<int64_t>(o.tolerance * lo))) {
    n = lo + (hi - lo) / 2;
    if (test(n))
      lo = n;
    else
      hi = n;
  }
  r.emc = lo;
  r.first_failure = hi;
  return r;
}

SearchResult log_grid(const Probe& probe, const SearchOptions& o) {
  SearchResult r;
  const double ratio = std::pow(2.0, 1.0 / o.grid_per_octave);
  auto test = [&](int64_t n) {
    ++r.probes;
    return probe(n);
  };
  const int64_t first = std::min(o.start, o.max_n);
  if (!test(first)) {
    // Walk down the grid to the first size that fits.
    r.first_failure = first;
    for (double x = static_cast<double>(first) / ratio; x >= 1; x /= ratio) {
      const int64_t n = std::llround(x);
      if (n >= r.first_failure) continue;
      if (test(n)) {
        r.emc = n;
        return r;
      }
      r.first_failure = n;
    }
    return r;
  }
  r.emc = first;
  for (double x = static_cast<double>(first) * ratio; r.emc < o.max_n; x *= ratio) {
    const int64_t n = std::min<int64_t>(std::llround(x), o.max_n);
    if (n <= r.emc) continue;
    if (!test(n)) {
      r.first_failure = n;
      return r;
    }
    r.emc = n;
  }
  r.censored = true;
  return r;
}

}  // namespace

SearchResult find_emc(const Probe& probe, const SearchOptions& options) {
  check(options.start >= 1 && options.max_n >= 1, "find_emc: start ", options.start, " and max_n ", options.max_n,
        " must be positive");
  check(options.tolerance >= 0 && options.grid_per_octave >= 1, "find_emc: tolerance ", options.tolerance,
        " and grid_per_octave ", options.grid_per_octave, " out of range");
  return options.mode == SearchOptions::Mode::Bisection ? bisection(probe, options) : log_grid(probe, options);
}

}  // namespace ember::emc
