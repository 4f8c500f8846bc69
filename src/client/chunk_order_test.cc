#include "client/chunk_order.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mixtera::client {
namespace {

TEST(SmoothRoundRobinTest, HandWorkedOrders) {
  // counts {3, 1}: deficits after each step (worked by hand) pick 0, 0, 1, 0.
  EXPECT_EQ(SmoothRoundRobin({3, 1}), (std::vector<int32_t>{0, 0, 1, 0}));
  EXPECT_EQ(SmoothRoundRobin({1, 1, 1}), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(SmoothRoundRobin({2, 0, 2}), (std::vector<int32_t>{0, 2, 0, 2}));
  EXPECT_TRUE(SmoothRoundRobin({}).empty());
  EXPECT_TRUE(SmoothRoundRobin({0, -3}).empty());
}

// Every key appears exactly counts[i] times and every prefix is within one item of its quota.
TEST(SmoothRoundRobinTest, EveryPrefixWithinOneOfQuota) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int64_t> counts(1 + rng() % 6);
    for (auto& c : counts) c = rng() % 4 == 0 ? 0 : rng() % 40;
    int64_t total = 0;
    for (auto c : counts) total += c;
    const std::vector<int32_t> order = SmoothRoundRobin(counts);
    ASSERT_EQ(static_cast<int64_t>(order.size()), total);
    std::vector<int64_t> taken(counts.size(), 0);
    for (int64_t t = 1; t <= total; ++t) {
      ++taken[order[t - 1]];
      for (size_t i = 0; i < counts.size(); ++i) {
        const double quota = static_cast<double>(t) * counts[i] / total;
        ASSERT_LT(std::abs(taken[i] - quota), 1.0) << "trial " << trial << " t " << t;
      }
    }
    for (size_t i = 0; i < counts.size(); ++i) EXPECT_EQ(taken[i], counts[i]);
  }
}

}  // namespace
}  // namespace mixtera::client
