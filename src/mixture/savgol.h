// Savitzky–Golay smoothing as scipy.signal.savgol_filter(y, window, order) computes it with its
// defaults (deriv=0, delta=1, mode="interp"): every point whose window fits inside the series
// is the value at the window's centre of the least-squares polynomial of degree `order` over
// the window; the first and last window/2 points are the values of one polynomial fitted to
// the first (last) `window` points.
//
// Thread safety: a pure function.
#pragma once

#include <vector>

#include "mixtera/result.h"

namespace mixtera::mixture {

// Returns the smoothed series (same length). Errors: InvalidArgument unless `window` is odd,
// order < window and window <= y.size() (SciPy's mode="interp" rule).
Result<std::vector<double>> SavitzkyGolay(const std::vector<double>& y, int window, int order);

}  // namespace mixtera::mixture
