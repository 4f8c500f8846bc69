// Unconstrained minimization with L-BFGS-B (Byrd, Lu, Nocedal, Zhu; version 3.0, the Fortran
// code Debian ships as liblbfgsb and SciPy wraps), driven the way scipy.optimize.minimize(
// method="L-BFGS-B") drives it: the reverse-communication loop asks for f and g ("FG"), an
// iteration ends at "NEW_X", and the run stops at convergence ("CONVERGENCE: ..."), after
// `max_iterations` iterations, after more than `max_evaluations` evaluations, or when the
// line search fails (its 20 steps run out).
//
//   LbfgsbOptions options;  // SciPy's defaults, maxiter 200
//   LbfgsbResult r = MinimizeLbfgsb(
//       [](const double* x, double* g) { g[0] = 2 * (x[0] - 1); return (x[0] - 1) * (x[0] - 1); },
//       {0.0}, options);
//   // r.converged, r.x == {1.0} (to within the tolerances)
//
// Thread safety: MinimizeLbfgsb keeps all its state in its own work arrays and may run on
// several threads at once.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace mixtera::mixture {

struct LbfgsbOptions {
  int memory = 10;              // corrections kept (SciPy's maxcor)
  int max_iterations = 200;     // SciPy's maxiter
  int max_evaluations = 15000;  // SciPy's maxfun
  double factr = 1e7;           // SciPy's ftol 2.220446049250313e-09 / machine epsilon
  double pgtol = 1e-5;          // SciPy's gtol: projected-gradient tolerance
};

struct LbfgsbResult {
  std::vector<double> x;   // the last iterate
  double f = 0;            // f(x)
  bool converged = false;  // the code reported convergence (SciPy's success)
  int iterations = 0;
  int evaluations = 0;
  std::string message;  // the code's final task string, e.g. "CONVERGENCE: REL_REDUCTION_OF_F..."
};

// f(x) with its gradient written to g (both of the problem's dimension). May return a
// non-finite value (the line search then backs off).
using ObjectiveWithGradient = std::function<double(const double* x, double* g)>;

// Minimizes `f` from `x0` without bounds.
LbfgsbResult MinimizeLbfgsb(const ObjectiveWithGradient& f, std::vector<double> x0,
                            const LbfgsbOptions& options);

}  // namespace mixtera::mixture
