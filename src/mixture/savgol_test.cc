#include "mixture/savgol.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "testing/test_util.h"

namespace mixtera::mixture {
namespace {

TEST(SavitzkyGolay, InteriorWeightsOfWindowFiveAreTheTextbookOnes) {
  // Quadratic and cubic fits over 5 points give the centre weights (-3, 12, 17, 12, -3) / 35.
  // An impulse at position 4 of 9 points shows them in the interior outputs 2..6.
  std::vector<double> y(9, 0.0);
  y[4] = 35.0;
  ASSERT_OK_AND_ASSIGN(std::vector<double> out, SavitzkyGolay(y, 5, 3));
  const double want[] = {-3, 12, 17, 12, -3};
  for (int i = 2; i <= 6; ++i) EXPECT_NEAR(out[i], want[6 - i], 1e-12) << i;
}

TEST(SavitzkyGolay, PolynomialsUpToTheOrderPassUnchangedEdgesIncluded) {
  // mode="interp": the edges are the values of the polynomial fitted to the first/last
  // window, so a cubic comes back exactly everywhere.
  std::vector<double> y;
  for (int i = 0; i < 40; ++i) {
    const double t = i * 0.25;
    y.push_back(2.0 - 0.5 * t + 0.125 * t * t - 0.01 * t * t * t);
  }
  for (int window : {5, 11, 39}) {
    ASSERT_OK_AND_ASSIGN(std::vector<double> out, SavitzkyGolay(y, window, 3));
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(out[i], y[i], 1e-9) << window << " " << i;
  }
}

TEST(SavitzkyGolay, EdgesFitTheFirstAndLastWindow) {
  // y = i^4 = (s + 2)^4 with s = i - 2 is not cubic: an edge value is the least-squares cubic
  // over the first 5 points evaluated there. The cubic part of (s + 2)^4 is fitted exactly;
  // s^4 over s = -2..2 is fitted by a + b s^2 with 5a + 10b = 34, 10a + 34b = 130, so
  // a = -72/35, b = 31/7, and at s = -2 the fit is 548/35 instead of 16: i = 0 gives
  // 0 - (16 - 548/35) = -12/35, i = 2 gives 16 - 72/35.
  std::vector<double> y;
  for (int i = 0; i < 5; ++i) y.push_back(std::pow(i, 4));
  ASSERT_OK_AND_ASSIGN(std::vector<double> out, SavitzkyGolay(y, 5, 3));
  EXPECT_NEAR(out[0], -12.0 / 35.0, 1e-9);
  EXPECT_NEAR(out[2], 16.0 - 72.0 / 35.0, 1e-9);
  EXPECT_NEAR(out[2], (-3 * 0 + 12 * 1 + 17 * 16 + 12 * 81 - 3 * 256) / 35.0, 1e-9);
}

TEST(SavitzkyGolay, BadArguments) {
  std::vector<double> y(10, 1.0);
  EXPECT_STATUS(SavitzkyGolay(y, 4, 3), StatusCode::kInvalidArgument, "odd window");
  EXPECT_STATUS(SavitzkyGolay(y, 11, 3), StatusCode::kInvalidArgument, "window 11");
  EXPECT_STATUS(SavitzkyGolay(y, 3, 3), StatusCode::kInvalidArgument, "order 3");
}

}  // namespace
}  // namespace mixtera::mixture
