#include "mixture/apportion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace mixtera::mixture {
namespace {

using V = std::vector<int64_t>;

// An independent reference for the largest-remainder method over integer weights, in exact
// rational arithmetic: the quota of part i is total * n_i / S (S = sum of n). Each part gets
// floor(quota); the leftover units go one at a time to the part with the largest remaining
// fraction (compared as numerators over the common denominator S), ties to the lower
// index. Written as repeated selection rather than a sort, so it shares no code shape with
// the implementation.
V ExactReference(int64_t total, const V& n) {
  __int128 s = 0;
  for (int64_t x : n) s += x;
  V parts(n.size(), 0);
  if (total == 0 || n.empty()) return parts;
  std::vector<__int128> rem(n.size());
  int64_t assigned = 0;
  for (size_t i = 0; i < n.size(); ++i) {
    const __int128 q = static_cast<__int128>(total) * n[i];
    parts[i] = static_cast<int64_t>(q / s);
    rem[i] = q % s;
    assigned += parts[i];
  }
  std::vector<bool> taken(n.size(), false);
  while (assigned < total) {
    size_t best = n.size();
    for (size_t i = 0; i < n.size(); ++i) {
      if (taken[i]) continue;
      if (best == n.size() || rem[i] > rem[best]) best = i;  // strict: ties keep lower index
    }
    taken[best] = true;
    ++parts[best];
    ++assigned;
  }
  return parts;
}

// A brute-force reference: try every set of parts that could receive the leftover units
// (each part gets floor(quota) or floor(quota) + 1, and the parts must sum to total) and
// keep the set with the largest sum of remainders, ties to the set that is smallest as a
// sorted index list (= ties to lower indices). Only for a handful of parts.
V BruteForce(int64_t total, const V& n) {
  __int128 s = 0;
  for (int64_t x : n) s += x;
  const size_t k = n.size();
  V floor_part(k);
  std::vector<__int128> rem(k);
  int64_t floor_sum = 0;
  for (size_t i = 0; i < k; ++i) {
    const __int128 q = static_cast<__int128>(total) * n[i];
    floor_part[i] = static_cast<int64_t>(q / s);
    rem[i] = q % s;
    floor_sum += floor_part[i];
  }
  const int64_t leftover = total - floor_sum;
  bool have = false;
  uint32_t best_mask = 0;
  __int128 best_sum = -1;
  auto lex_smaller = [&](uint32_t a, uint32_t b) {  // sorted index lists of the two sets
    for (size_t i = 0; i < k; ++i) {
      const bool in_a = a >> i & 1, in_b = b >> i & 1;
      if (in_a != in_b) return in_a;  // the first differing index is in a: a is smaller
    }
    return false;
  };
  for (uint32_t mask = 0; mask < (1u << k); ++mask) {
    if (__builtin_popcount(mask) != leftover) continue;
    __int128 sum = 0;
    for (size_t i = 0; i < k; ++i) {
      if (mask >> i & 1) sum += rem[i];
    }
    if (!have || sum > best_sum || (sum == best_sum && lex_smaller(mask, best_mask))) {
      have = true;
      best_mask = mask;
      best_sum = sum;
    }
  }
  V parts = floor_part;
  for (size_t i = 0; i < k; ++i) parts[i] += best_mask >> i & 1;
  return parts;
}

int64_t Sum(const V& v) { return std::accumulate(v.begin(), v.end(), int64_t{0}); }

TEST(LargestRemainderTest, HandComputedExamples) {
  // 10 * {0.4, 0.4, 0.2} = {4, 4, 2} exactly; no remainders.
  EXPECT_EQ(LargestRemainder(10, {0.4, 0.4, 0.2}), (V{4, 4, 2}));
  // 1024 / 3 = 341.33 each: floors 341 * 3 = 1023, one unit left; all remainders tie
  // (1/3), so it goes to the lowest index.
  EXPECT_EQ(LargestRemainder(1024, {1.0 / 3, 1.0 / 3, 1.0 / 3}), (V{342, 341, 341}));
  // 1025 / 3 = 341.67 each: floors 1023, two left, ties: indices 0 and 1.
  EXPECT_EQ(LargestRemainder(1025, {1.0 / 3, 1.0 / 3, 1.0 / 3}), (V{342, 342, 341}));
  // Weights need not be normalized: {3, 3, 1} / 7 of 5 = {15/7, 15/7, 5/7}
  // = {2.143, 2.143, 0.714}: floors {2, 2, 0} = 4, one left, the largest remainder is
  // index 2 (0.714 > 0.143), not the lowest index.
  EXPECT_EQ(LargestRemainder(5, {3, 3, 1}), (V{2, 2, 1}));
  // {1, 2, 2, 1} / 6 of 3 = {0.5, 1, 1, 0.5}: floors {0, 1, 1, 0} = 2, one left; indices
  // 0 and 3 tie at 0.5 -> index 0.
  EXPECT_EQ(LargestRemainder(3, {1, 2, 2, 1}), (V{1, 1, 1, 0}));
  // {0.7, 0.2, 0.1} of 5 = {3.5, 1, 0.5}: floors {3, 1, 0} = 4; 0 and 2 tie at 0.5 -> 0.
  EXPECT_EQ(LargestRemainder(5, {0.7, 0.2, 0.1}), (V{4, 1, 0}));
  // {0.1, 0.3, 0.6} of 5 = {0.5, 1.5, 3}: floors {0, 1, 3} = 4; 0 and 1 tie at 0.5 -> 0.
  EXPECT_EQ(LargestRemainder(5, {0.1, 0.3, 0.6}), (V{1, 1, 3}));
  // A single key takes everything.
  EXPECT_EQ(LargestRemainder(1024, {0.25}), (V{1024}));
  // Fewer units than keys: 2 units over 4 equal keys -> the first two.
  EXPECT_EQ(LargestRemainder(2, {1, 1, 1, 1}), (V{1, 1, 0, 0}));
}

TEST(LargestRemainderTest, TiesThatFloatingPointWouldBreak) {
  // {1, 4, 1} / 6 of 1504: quotas 250.67, 1002.67, 250.67; floors 250 + 1002 + 250 = 1502,
  // two units left, all three remainders are exactly 2/3 -> indices 0 and 1.
  // In doubles 1504 * (1/6) and 1504 * (4/6) carry different rounding errors; the tie
  // must still be a tie.
  EXPECT_EQ(LargestRemainder(1504, {1, 4, 1}), (V{251, 1003, 250}));
  EXPECT_EQ(LargestRemainder(1504, {1.0 / 6, 4.0 / 6, 1.0 / 6}), (V{251, 1003, 250}));
  // {28, 6, 12, 9} / 55 of 765: quotas 389.45, 83.45, 166.91, 125.18 (765 * 28 = 21420 =
  // 389 * 55 + 25; 765 * 6 = 4590 = 83 * 55 + 25; 765 * 12 = 9180 = 166 * 55 + 50;
  // 765 * 9 = 6885 = 125 * 55 + 10): floors 763, two left: index 2 (50/55), then 0 and 1
  // tie at 25/55 -> index 0.
  EXPECT_EQ(LargestRemainder(765, {28, 6, 12, 9}), (V{390, 83, 167, 125}));
}

TEST(LargestRemainderTest, ZeroWeightsGetNothing) {
  // {0, 1, 0, 1} of 5 = {0, 2.5, 0, 2.5}: floors {0, 2, 0, 2}, one left, tie -> index 1.
  EXPECT_EQ(LargestRemainder(5, {0, 1, 0, 1}), (V{0, 3, 0, 2}));
  // Even when there are more units left than positive weights could absorb by remainder.
  EXPECT_EQ(LargestRemainder(3, {0, 1, 0}), (V{0, 3, 0}));
  EXPECT_EQ(LargestRemainder(7, {0, 0, 1e-9}), (V{0, 0, 7}));
  // Nothing to split.
  EXPECT_EQ(LargestRemainder(0, {0.5, 0.5}), (V{0, 0}));
  EXPECT_EQ(LargestRemainder(0, {}), V{});
  EXPECT_EQ(LargestRemainder(0, {0, 0}), (V{0, 0}));
}

TEST(LargestRemainderTest, MatchesExactArithmeticOnRandomIntegerWeights) {
  // Small integer weights (many zeros and ties) given as doubles, both as they are and
  // normalized to sum 1 (as the parser stores them), must give exactly the exact-arithmetic
  // answer, including every tie going to the lower index.
  std::mt19937_64 rng(20240611);
  for (int iter = 0; iter < 20000; ++iter) {
    const size_t k = 1 + rng() % 8;
    const int64_t max_w = 1 + static_cast<int64_t>(rng() % 30);
    V n(k);
    for (auto& x : n) x = static_cast<int64_t>(rng() % (max_w + 1));
    if (Sum(n) == 0) n[rng() % k] = 1;
    const int64_t s = Sum(n);
    const int64_t total = static_cast<int64_t>(rng() % 5000);
    std::vector<double> raw(k), normalized(k);
    for (size_t i = 0; i < k; ++i) {
      raw[i] = static_cast<double>(n[i]);
      normalized[i] = static_cast<double>(n[i]) / static_cast<double>(s);
    }
    const V expected = ExactReference(total, n);
    ASSERT_EQ(Sum(expected), total);
    const V got_raw = LargestRemainder(total, raw);
    const V got_norm = LargestRemainder(total, normalized);
    ASSERT_EQ(got_raw, expected) << "iteration " << iter << " total " << total;
    ASSERT_EQ(got_norm, expected) << "iteration " << iter << " total " << total;
  }
}

TEST(LargestRemainderTest, ArbitraryWeightsSumExactlyAndStayWithinOneOfTheQuota) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  for (int iter = 0; iter < 20000; ++iter) {
    const size_t k = 1 + rng() % 12;
    std::vector<double> w(k);
    for (auto& x : w) x = (rng() % 4 == 0) ? 0.0 : uni(rng) * std::pow(10.0, rng() % 7 - 3.0);
    if (std::all_of(w.begin(), w.end(), [](double x) { return x == 0; })) w[0] = 0.5;
    const int64_t total = static_cast<int64_t>(rng() % 2'000'000);
    const V parts = LargestRemainder(total, w);
    ASSERT_EQ(parts.size(), k);
    ASSERT_EQ(Sum(parts), total) << "iteration " << iter;
    long double s = 0;
    for (double x : w) s += x;
    for (size_t i = 0; i < k; ++i) {
      if (w[i] == 0) {
        ASSERT_EQ(parts[i], 0) << "iteration " << iter << " part " << i;
        continue;
      }
      // Each part is the floor or the ceiling of its quota (slack for rounding).
      const long double quota = static_cast<long double>(total) * w[i] / s;
      ASSERT_GE(parts[i], std::floor(quota - 1e-6L)) << "iteration " << iter;
      ASSERT_LE(parts[i], std::ceil(quota + 1e-6L)) << "iteration " << iter;
    }
  }
}

TEST(LargestRemainderExactTest, HandComputedExamples) {
  // {1, 1, 1} of 10: 3.33 each -> floors 9, one left, tie -> index 0.
  EXPECT_EQ(LargestRemainderExact(10, {1, 1, 1}), (V{4, 3, 3}));
  // {5, 3, 2} of 7 (S = 10): 3.5, 2.1, 1.4 -> floors 3 + 2 + 1 = 6, one left: index 0 (0.5).
  EXPECT_EQ(LargestRemainderExact(7, {5, 3, 2}), (V{4, 2, 1}));
  // {2, 0, 3} of 4 (S = 5): 1.6, 0, 2.4 -> floors 3, one left: index 0 (0.6 > 0.4).
  EXPECT_EQ(LargestRemainderExact(4, {2, 0, 3}), (V{2, 0, 2}));
  // Remaining component sizes {1000, 1, 1} splitting 3: 2.994, 0.003, 0.003 -> floors
  // {2, 0, 0}, one left: index 0 (0.994).
  EXPECT_EQ(LargestRemainderExact(3, {1000, 1, 1}), (V{3, 0, 0}));
  EXPECT_EQ(LargestRemainderExact(0, {1, 2}), (V{0, 0}));
  EXPECT_EQ(LargestRemainderExact(0, {}), V{});
  EXPECT_EQ(LargestRemainderExact(5, {0, 7, 0}), (V{0, 5, 0}));
}

TEST(LargestRemainderExactTest, HugeWeightsDoNotOverflowTheRemainders) {
  // S = 2 * (2^63 - 1) + 2 = 2^64. Quotas: 2 * (2^63 - 1) / 2^64 = 1 - 2^-63 for the first
  // two, 4 / 2^64 for the last. Floors are all 0, two units left; the remainders are
  // 2^64 - 2, 2^64 - 2 and 4 (over 2^64), so the first two get them.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(LargestRemainderExact(2, {kMax, kMax, 2}), (V{1, 1, 0}));
  // S = 3 * (2^63 - 1); 1 unit: each quota 1/3, tie -> index 0.
  EXPECT_EQ(LargestRemainderExact(1, {kMax, kMax, kMax}), (V{1, 0, 0}));
  // A huge total over small weights: (2^63 - 1) / 2 = 2^62 - 0.5 each -> index 0 gets 2^62.
  EXPECT_EQ(LargestRemainderExact(kMax, {1, 1}), (V{int64_t{1} << 62, (int64_t{1} << 62) - 1}));
}

TEST(LargestRemainderExactTest, MatchesBruteForce) {
  std::mt19937_64 rng(99);
  for (int iter = 0; iter < 20000; ++iter) {
    const size_t k = 1 + rng() % 7;
    // Alternate between small weights (ties) and large ones (component sizes).
    const int64_t max_w = (iter % 2 == 0) ? 12 : 1'000'000'000'000;
    V n(k);
    for (auto& x : n) x = (rng() % 5 == 0) ? 0 : static_cast<int64_t>(rng() % (max_w + 1));
    if (Sum(n) == 0) n[rng() % k] = 1;
    const int64_t total = static_cast<int64_t>(rng() % 100'000);
    const V got = LargestRemainderExact(total, n);
    ASSERT_EQ(got, BruteForce(total, n)) << "iteration " << iter << " total " << total;
    ASSERT_EQ(got, ExactReference(total, n)) << "iteration " << iter;
    ASSERT_EQ(Sum(got), total);
    for (size_t i = 0; i < k; ++i) {
      if (n[i] == 0) {
        ASSERT_EQ(got[i], 0);
      }
    }
  }
}

TEST(LargestRemainderExactTest, AgreesWithTheDoubleVersionOnSmallIntegers) {
  // Both functions promise the same method; on small integer weights they must agree.
  std::mt19937_64 rng(3);
  for (int iter = 0; iter < 5000; ++iter) {
    const size_t k = 1 + rng() % 10;
    V n(k);
    std::vector<double> d(k);
    for (size_t i = 0; i < k; ++i) {
      n[i] = static_cast<int64_t>(rng() % 100);
      d[i] = static_cast<double>(n[i]);
    }
    if (Sum(n) == 0) {
      n[0] = 1;
      d[0] = 1;
    }
    const int64_t total = static_cast<int64_t>(rng() % 100'000);
    ASSERT_EQ(LargestRemainder(total, d), LargestRemainderExact(total, n)) << "iteration " << iter;
  }
}

}  // namespace
}  // namespace mixtera::mixture
