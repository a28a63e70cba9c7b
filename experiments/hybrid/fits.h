#pragma once
// Reading claim 1's ratios off fitted scaling curves: per family, the final validation loss L
// against a cost x (parameters, training FLOPs, peak memory, training seconds) is fitted with a
// saturating power law L = a x^-b + c (experiments/common/powerlaw.h). The reference quality L*
// is the Transformer family's fitted loss at its largest measured x (the best it reached here);
// the saving is 1 - x_hybrid(L*) / x_transformer(L*): what the hybrid needs to reach the
// Transformer's quality, relative to what the Transformer needs. Positive: the hybrid needs less.
#include <vector>

namespace ember::hybrid {

struct Curve {
  std::vector<double> x, loss;
};

// -inf where the hybrid's fit never reaches L* (its floor c lies above it); NaN where a curve
// has fewer than 3 distinct x.
double saving_at_reference(const Curve& hybrid, const Curve& transformer);
// The fitted exponent b of L = a x^-b + c; NaN with fewer than 3 distinct x.
double scaling_exponent(const Curve& curve);


// The fitted curve on `points` log-spaced x across the curve's range, for plots (empty with
// fewer than 3 distinct x).
struct FittedLine {
  std::vector<double> x, loss;
  double exponent = 0;
};
FittedLine fitted_line(const Curve& curve, int points = 21);

}  // namespace ember::hybrid
