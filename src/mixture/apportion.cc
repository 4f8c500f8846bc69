#include "mixture/apportion.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/macros.h"

namespace mixtera::mixture {

std::vector<int64_t> LargestRemainder(int64_t total, const std::vector<double>& weights) {
  std::vector<int64_t> parts(weights.size(), 0);
  double sum = 0;
  for (double w : weights) {
    MIXTERA_CHECK(w >= 0 && std::isfinite(w));
    sum += w;
  }
  if (total == 0 || weights.empty()) return parts;
  MIXTERA_CHECK(sum > 0);
  // Quotas are computed in doubles: beyond 2^53 they are no longer exact and the settling
  // loops below need not end. Entry points keep totals within model::limits::kMaxCount.
  MIXTERA_CHECK(total > 0 && total <= (int64_t{1} << 53));
  // Quotas carry rounding errors of a few ulps of `total` (the weights themselves are
  // usually rounded decimals or normalized ratios). Two remainders closer than `tol` are
  // treated as a tie, and a quota within `tol` of an integer as that integer, so that ties
  // of the intended (rational) weights go to the lower index as documented, instead of to
  // whichever quota happened to round up.
  const double tol = std::max(1e-9, static_cast<double>(total) * 1e-13);
  std::vector<double> remainder(weights.size());
  int64_t assigned = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    double exact = static_cast<double>(total) * (weights[i] / sum);
    const double nearest = std::round(exact);
    if (std::fabs(exact - nearest) <= tol) exact = nearest;
    parts[i] = static_cast<int64_t>(std::floor(exact));
    remainder[i] = exact - static_cast<double>(parts[i]);
    assigned += parts[i];
  }
  // By remainder, largest first; runs of remainders within `tol` of the run's first one are
  // ties and ordered by index.
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    while (end < order.size() && remainder[order[end]] >= remainder[order[begin]] - tol) ++end;
    std::sort(order.begin() + begin, order.begin() + end);
    begin = end;
  }
  // Floating point can put `assigned` a unit off either way; settle it by remainders.
  for (size_t k = 0; assigned < total; k = (k + 1) % order.size()) {
    if (weights[order[k]] > 0) {
      ++parts[order[k]];
      ++assigned;
    }
  }
  for (size_t k = order.size(); assigned > total && k-- > 0;) {
    if (parts[order[k]] > 0) {
      --parts[order[k]];
      --assigned;
    }
  }
  return parts;
}

std::vector<int64_t> LargestRemainderExact(int64_t total, const std::vector<int64_t>& weights) {
  std::vector<int64_t> parts(weights.size(), 0);
  __int128 sum = 0;
  for (int64_t w : weights) {
    MIXTERA_CHECK(w >= 0);
    sum += w;
  }
  if (total == 0 || weights.empty()) return parts;
  MIXTERA_CHECK(sum > 0);
  // Remainders are below `sum`, which can exceed int64 (weights up to 2^63 each).
  std::vector<__int128> remainder(weights.size());
  int64_t assigned = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const __int128 scaled = static_cast<__int128>(total) * weights[i];
    parts[i] = static_cast<int64_t>(scaled / sum);
    remainder[i] = scaled % sum;
    assigned += parts[i];
  }
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t k = 0; assigned < total; ++k) {
    ++parts[order[k]];
    ++assigned;
  }
  return parts;
}

}  // namespace mixtera::mixture
