#include "mixture/scaling_law.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "mixture/lbfgsb.h"
#include "testing/test_util.h"

namespace mixtera::mixture {
namespace {

TEST(Lbfgsb, MinimizesAQuadraticAndReportsConvergence) {
  // f = (x0 - 1)^2 + 10 (x1 + 2)^2, minimum at (1, -2).
  LbfgsbResult r = MinimizeLbfgsb(
      [](const double* x, double* g) {
        g[0] = 2 * (x[0] - 1);
        g[1] = 20 * (x[1] + 2);
        return (x[0] - 1) * (x[0] - 1) + 10 * (x[1] + 2) * (x[1] + 2);
      },
      {5.0, 5.0}, LbfgsbOptions{});
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_NEAR(r.x[0], 1, 1e-6);
  EXPECT_NEAR(r.x[1], -2, 1e-6);
  EXPECT_GT(r.evaluations, 1);
}

TEST(Lbfgsb, StopsAtTheIterationLimitWithoutConverging) {
  // Rosenbrock from (-1.2, 1) needs more than 3 iterations.
  LbfgsbOptions options;
  options.max_iterations = 3;
  LbfgsbResult r = MinimizeLbfgsb(
      [](const double* x, double* g) {
        const double a = 1 - x[0], b = x[1] - x[0] * x[0];
        g[0] = -2 * a - 400 * x[0] * b;
        g[1] = 200 * b;
        return a * a + 100 * b * b;
      },
      {-1.2, 1.0}, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_EQ(r.message, "STOP: TOTAL NO. of ITERATIONS REACHED LIMIT");
}

TEST(ScalingLaw, ObjectiveByHand) {
  // One point x = e, y = e^0.5 (log y is 0.5 to float32 precision). p = (log β = 0,
  // log ε = 1, α = 1): pred = log(e^(0 - 1) + e^1) = log(e^-1 + e); r = pred - 0.5; α > 0.8
  // adds the penalty 1000 * 0.2.
  const std::vector<double> x = {std::exp(1.0)}, y = {std::exp(0.5)};
  ScalingLawObjective objective(x, y);
  const double pred = std::log(std::exp(-1.0) + std::exp(1.0));
  const double r = pred - 0.5;  // 0.627, beyond δ = 1e-3: the linear branch
  double g[3];
  const double f = objective.Evaluate({0.0, 1.0, 1.0}, g);
  EXPECT_NEAR(f, 1e-3 * (r - 0.5e-3) + 200, 1e-9);
  // Gradient of the linear branch: δ · d pred / d p, plus the α penalty's 1000.
  const double w_beta = std::exp(-1.0) / (std::exp(-1.0) + std::exp(1.0));
  EXPECT_NEAR(g[0], 1e-3 * w_beta, 1e-12);
  EXPECT_NEAR(g[1], 1e-3 * (1 - w_beta), 1e-12);
  EXPECT_NEAR(g[2], -1e-3 * w_beta * 1.0 + 1000, 1e-9);
  // Penalties: α = 0.9 adds 1000 * 0.1; log ε = 0.25 adds 1000 * 0.25; log β = 7 adds 500.
  const double f2 = objective.Evaluate({7.0, 0.25, 0.9}, nullptr);
  const double pred2 = std::log(std::exp(7.0 - 0.9) + std::exp(0.25));
  EXPECT_NEAR(f2, 1e-3 * (pred2 - 0.5 - 0.5e-3) + 100 + 250 + 500, 1e-9);
  EXPECT_TRUE(std::isinf(objective.Evaluate({NAN, 1.0, 1.0}, nullptr)));
}

TEST(ScalingLaw, GradientMatchesCentralDifferences) {
  std::vector<double> x, y;
  for (int i = 1; i <= 30; ++i) {
    x.push_back(100.0 * i);
    y.push_back(2.0 + 5.0 * std::pow(100.0 * i, -0.3) + (i % 3 == 0 ? 0.01 : -0.004));
  }
  ScalingLawObjective objective(x, y);
  for (ScalingLawParams p : {ScalingLawParams{1.0, 0.7, 0.3}, ScalingLawParams{-1.0, 1.2, 0.5},
                             ScalingLawParams{2.0, 0.6, 0.05}}) {
    double g[3];
    objective.Evaluate(p, g);
    for (int j = 0; j < 3; ++j) {
      ScalingLawParams hi = p, lo = p;
      hi[j] += 1e-6;
      lo[j] -= 1e-6;
      const double numeric =
          (objective.Evaluate(hi, nullptr) - objective.Evaluate(lo, nullptr)) / 2e-6;
      EXPECT_NEAR(g[j], numeric, 1e-5 * (1 + std::fabs(numeric))) << j;
    }
  }
}

TEST(ScalingLaw, FitRecoversANoiseFreeLaw) {
  // L(n) = ε + β n^-α with log β = 1.5, log ε = 0.9, α = 0.35 (inside the penalty-free box).
  const ScalingLawParams truth = {1.5, 0.9, 0.35};
  std::vector<double> x, y;
  for (int i = 1; i <= 60; ++i) {
    x.push_back(50.0 * i);
    y.push_back(ScalingLawLoss(truth, 50.0 * i));
  }
  ASSERT_OK_AND_ASSIGN(ScalingLawFit fit, FitScalingLaw(x, y));
  ASSERT_TRUE(fit.success);
  EXPECT_GT(fit.converged_starts, 100);
  // y is rounded to float32 before the log, so the law is recovered to about that precision.
  for (int i = 1; i <= 60; i += 7) {
    EXPECT_NEAR(ScalingLawLoss(fit.params, 50.0 * i), y[i - 1], 1e-4) << i;
  }
  // The polished best start ends near the minimum, i.e. near the law itself.
  EXPECT_NEAR(fit.params[2], 0.35, 2e-3);
  EXPECT_NEAR(fit.params[0], 1.5, 1e-2);
  EXPECT_NEAR(fit.params[1], 0.9, 1e-3);
}

TEST(ScalingLaw, DerivativeByHand) {
  // β = e, ε = 1, α = 0.5, n = 4: L = 1 + e/2, dL/dn = -(0.5/4)(e/2).
  const ScalingLawParams p = {1.0, 0.0, 0.5};
  EXPECT_NEAR(ScalingLawLoss(p, 4), 1 + std::exp(1.0) / 2, 1e-12);
  EXPECT_NEAR(ScalingLawDerivative(p, 4), -(0.5 / 4) * (std::exp(1.0) / 2), 1e-12);
  EXPECT_EQ(ScalingLawDerivative(p, 0), 0);
}

TEST(ScalingLaw, BadPoints) {
  EXPECT_STATUS(FitScalingLaw({}, {}), StatusCode::kInvalidArgument, "at least one");
  EXPECT_STATUS(FitScalingLaw({1, 2}, {1}), StatusCode::kInvalidArgument, "2 x and 1 y");
  EXPECT_STATUS(FitScalingLaw({1, 0}, {1, 1}), StatusCode::kInvalidArgument, "point 1");
  EXPECT_STATUS(FitScalingLaw({1}, {-1}), StatusCode::kInvalidArgument, "y > 0");
}

}  // namespace
}  // namespace mixtera::mixture
