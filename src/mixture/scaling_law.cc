#include "mixture/scaling_law.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/strings.h"
#include "mixture/lbfgsb.h"

namespace mixtera::mixture {
namespace {

constexpr double kHuberDelta = 1e-3;
constexpr double kPenalty = 1e3;

}  // namespace

ScalingLawObjective::ScalingLawObjective(const std::vector<double>& x,
                                         const std::vector<double>& y) {
  log_x_.reserve(x.size());
  target_.reserve(y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    log_x_.push_back(std::log(x[i]));
    target_.push_back(static_cast<double>(std::log(static_cast<float>(y[i]))));
  }
}

double ScalingLawObjective::Evaluate(const ScalingLawParams& p, double* grad) const {
  const double log_beta = p[0], log_eps = p[1], alpha = p[2];
  if (grad != nullptr) grad[0] = grad[1] = grad[2] = 0;
  if (!std::isfinite(log_beta) || !std::isfinite(log_eps) || !std::isfinite(alpha)) {
    return std::numeric_limits<double>::infinity();
  }
  const double n = static_cast<double>(log_x_.size());
  double sum = 0, g_beta = 0, g_eps = 0, g_alpha = 0;
  for (size_t i = 0; i < log_x_.size(); ++i) {
    const double u = log_beta - alpha * log_x_[i];
    const double hi = std::max(u, log_eps), lo = std::min(u, log_eps);
    const double e = std::exp(lo - hi);
    const double pred = hi + std::log1p(e);
    const double r = pred - target_[i];
    double dr;  // d huber / d r
    if (std::fabs(r) <= kHuberDelta) {
      sum += 0.5 * r * r;
      dr = r;
    } else {
      sum += kHuberDelta * (std::fabs(r) - 0.5 * kHuberDelta);
      dr = r > 0 ? kHuberDelta : -kHuberDelta;
    }
    if (grad != nullptr) {
      // d pred / d u and d pred / d log ε: the softmax weights of the two terms.
      const double w_hi = 1 / (1 + e), w_lo = e / (1 + e);
      const double wu = u >= log_eps ? w_hi : w_lo;
      const double we = u >= log_eps ? w_lo : w_hi;
      g_beta += dr * wu;
      g_alpha -= dr * wu * log_x_[i];
      g_eps += dr * we;
    }
  }
  double loss = sum / n;
  double penalty = 0;
  auto hinge = [&](double violation, int index, double sign) {
    if (violation > 0) {
      penalty += violation * kPenalty;
      if (grad != nullptr) grad[index] += sign * kPenalty;
    }
  };
  if (grad != nullptr) {
    grad[0] = g_beta / n;
    grad[1] = g_eps / n;
    grad[2] = g_alpha / n;
  }
  hinge(alpha - 0.8, 2, 1);
  hinge(0.001 - alpha, 2, -1);
  hinge(log_beta - 6.5, 0, 1);
  hinge(0.5 - log_eps, 1, -1);
  return loss + penalty;
}

Result<ScalingLawFit> FitScalingLaw(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || x.size() != y.size()) {
    return Status::InvalidArgument(StrCat("scaling-law fit: ", x.size(), " x and ", y.size(),
                                          " y values (need the same number, at least one)"));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] > 0) || !(y[i] > 0) || !std::isfinite(x[i]) || !std::isfinite(y[i])) {
      return Status::InvalidArgument(StrCat("scaling-law fit: point ", i, " (x ", x[i], ", y ",
                                            y[i], ") must have finite x > 0 and y > 0"));
    }
  }
  const ScalingLawObjective objective(x, y);
  const LbfgsbOptions options;
  ScalingLawFit best;
  double best_loss = std::numeric_limits<double>::infinity();
  const double log_eps_grid[] = {-2.0, -1.5, -1.0, -0.5, 1.0, 1.5};
  for (int a = 0; a < 8; ++a) {
    for (int b = -2; b <= 5; ++b) {
      for (double log_eps : log_eps_grid) {
        // 0.1 * a as Python computes it (0.30000000000000004, ...).
        std::vector<double> start = {static_cast<double>(b), log_eps, 0.1 * a};
        LbfgsbResult r = MinimizeLbfgsb(
            [&objective](const double* p, double* g) {
              return objective.Evaluate({p[0], p[1], p[2]}, g);
            },
            std::move(start), options);
        if (!r.converged) continue;
        ++best.converged_starts;
        if (r.f < best_loss) {
          best_loss = r.f;
          best.params = {r.x[0], r.x[1], r.x[2]};
          best.loss = r.f;
          best.success = true;
        }
      }
    }
  }
  if (best.success) {
    // Polish the chosen start: SciPy's tolerances stop where the objective's decrease falls
    // below 2.2e-9 in absolute terms, which on a well-fitting law (losses ~1e-6) is far from
    // its minimum. Going on from there only lowers the loss.
    LbfgsbOptions tight = options;
    tight.factr = 10;
    tight.pgtol = 1e-12;
    LbfgsbResult r = MinimizeLbfgsb(
        [&objective](const double* p, double* g) {
          return objective.Evaluate({p[0], p[1], p[2]}, g);
        },
        {best.params[0], best.params[1], best.params[2]}, tight);
    const ScalingLawParams polished = {r.x[0], r.x[1], r.x[2]};
    const double loss = objective.Evaluate(polished, nullptr);
    if (loss < best.loss) {
      best.params = polished;
      best.loss = loss;
    }
  }
  return best;
}

double ScalingLawLoss(const ScalingLawParams& p, double n) {
  if (!(n > 0)) return 0;
  return std::exp(p[1]) + std::exp(p[0]) * std::pow(n, -p[2]);
}

double ScalingLawDerivative(const ScalingLawParams& p, double n) {
  if (!(n > 0)) return 0;
  const double eps = std::exp(p[1]);
  const double loss = eps + std::exp(p[0]) * std::pow(n, -p[2]);
  return -(1.0 / n) * p[2] * (loss - eps);
}

}  // namespace mixtera::mixture
