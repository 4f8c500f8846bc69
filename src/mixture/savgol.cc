#include "mixture/savgol.h"

#include <cmath>
#include <cstddef>

#include "base/strings.h"

namespace mixtera::mixture {
namespace {

// The w x w projection onto polynomials of degree <= order over w equally spaced points:
// P = Q Q^T, Q an orthonormal basis of the columns 1, s, ..., s^order with s in [-1, 1]
// (scaled for conditioning), orthonormalized by modified Gram-Schmidt, twice.
std::vector<std::vector<double>> PolynomialProjection(int w, int order) {
  const int k = order + 1;
  const double half = (w - 1) / 2.0;
  std::vector<std::vector<double>> q(static_cast<size_t>(k), std::vector<double>(w));
  for (int i = 0; i < w; ++i) {
    const double s = half > 0 ? (i - half) / half : 0.0;
    double power = 1;
    for (int j = 0; j < k; ++j) {
      q[j][i] = power;
      power *= s;
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (int j = 0; j < k; ++j) {
      for (int l = 0; l < j; ++l) {
        double dot = 0;
        for (int i = 0; i < w; ++i) dot += q[j][i] * q[l][i];
        for (int i = 0; i < w; ++i) q[j][i] -= dot * q[l][i];
      }
      double norm = 0;
      for (int i = 0; i < w; ++i) norm += q[j][i] * q[j][i];
      norm = std::sqrt(norm);
      for (int i = 0; i < w; ++i) q[j][i] /= norm;
    }
  }
  std::vector<std::vector<double>> p(static_cast<size_t>(w), std::vector<double>(w, 0));
  for (int a = 0; a < w; ++a) {
    for (int b = 0; b < w; ++b) {
      double sum = 0;
      for (int j = 0; j < k; ++j) sum += q[j][a] * q[j][b];
      p[a][b] = sum;
    }
  }
  return p;
}

}  // namespace

Result<std::vector<double>> SavitzkyGolay(const std::vector<double>& y, int window, int order) {
  const int n = static_cast<int>(y.size());
  if (window < 1 || window % 2 == 0 || order < 0 || order >= window || window > n) {
    return Status::InvalidArgument(StrCat("Savitzky-Golay: need an odd window <= the ", n,
                                          " points and order < window (got ", "window ", window,
                                          ", order ", order, ")"));
  }
  const std::vector<std::vector<double>> p = PolynomialProjection(window, order);
  const int half = window / 2;
  std::vector<double> out(y.size());
  auto fitted = [&](int row, int first) {
    double sum = 0;
    for (int r = 0; r < window; ++r) sum += p[row][r] * y[first + r];
    return sum;
  };
  for (int i = half; i < n - half; ++i) out[i] = fitted(half, i - half);
  for (int i = 0; i < half; ++i) {
    out[i] = fitted(i, 0);
    out[n - half + i] = fitted(window - half + i, n - window);
  }
  return out;
}

}  // namespace mixtera::mixture
