// The per-domain scaling-law fit of ADO (reference/original-mixtera.md §4.3): the loss after
// n tokens is modelled as L(n) = ε + β·n^(−α), fitted in log space to (x = tokens seen,
// y = smoothed per-step loss) points.
//
// Objective of p = (log β, log ε, α), as the original computes it:
//   pred_i = logsumexp(log β − α·log x_i, log ε)          (= log(β·x_i^−α + ε))
//   r_i    = pred_i − t_i,   t_i = log(y_i) computed in float32 (as NumPy computes it for the
//            original's float32 y)
//   loss   = mean_i huber_δ(r_i),   huber_δ(r) = r²/2 if |r| <= δ else δ(|r| − δ/2), δ = 1e−3
//          + 1000·(max(0, α − 0.8) + max(0, 0.001 − α) + max(0, log β − 6.5)
//                  + max(0, 0.5 − log ε))
// (penalties instead of bounds) and +inf for a non-finite p. The gradient is analytic (the
// original used SciPy's finite differences).
//
// FitScalingLaw runs L-BFGS-B (LbfgsbOptions: memory 10, 200 iterations, pgtol 1e−5, factr
// 1e7) from each of the 384 starts α ∈ {0, 0.1, …, 0.7} × log β ∈ {−2, −1, …, 5} ×
// log ε ∈ {−2, −1.5, −1, −0.5, 1, 1.5} (α outermost, log ε innermost) and keeps the converged
// run with the smallest loss; on ties the first in grid order. That start is then polished:
// L-BFGS-B goes on from it with tight tolerances (factr 10, pgtol 1e−12) and its end point is
// kept when its loss is lower. SciPy's default tolerances stop a run once f decreases by less
// than 2.2e−9 per step, which on a well-fitting law (losses around 1e−6) is well before the
// minimum; the original's fits therefore end at slightly different points depending on the
// start's path, and ours end nearer the minimum (never at a higher loss than the best start).
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <vector>

#include "mixtera/result.h"

namespace mixtera::mixture {

// (log β, log ε, α): the original's `scaling_law_params` row layout.
using ScalingLawParams = std::array<double, 3>;

// The fitting problem's data, with log x and the float32 log y precomputed.
class ScalingLawObjective {
 public:
  // REQUIRES: x.size() == y.size(); x > 0.
  ScalingLawObjective(const std::vector<double>& x, const std::vector<double>& y);
  // The loss at p, with its gradient in `grad` when not null.
  double Evaluate(const ScalingLawParams& p, double* grad) const;
  size_t num_points() const { return log_x_.size(); }

 private:
  std::vector<double> log_x_;
  std::vector<double> target_;
};

struct ScalingLawFit {
  ScalingLawParams params = {-1, -1, -1};
  double loss = 0;       // the objective at params (of the best converged start)
  bool success = false;  // some start converged
  int converged_starts = 0;
};

// The multi-start fit. Errors: InvalidArgument for no points, mismatched sizes or a point
// with x <= 0 or y <= 0 or a non-finite value; with points but no converged start, a fit
// with success = false and params (−1, −1, −1) (the caller decides; the original raised).
Result<ScalingLawFit> FitScalingLaw(const std::vector<double>& x, const std::vector<double>& y);

// The predicted loss ε + β·n^(−α) for p, and its derivative dL/dn = −(α/n)(L − ε); both 0 for
// n <= 0.
double ScalingLawLoss(const ScalingLawParams& p, double n);
double ScalingLawDerivative(const ScalingLawParams& p, double n);

}  // namespace mixtera::mixture
