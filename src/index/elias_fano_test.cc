#include "index/elias_fano.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace mixtera::index {
namespace {

// Encodes `values`, then checks every (first, count) window a reader may ask for against
// the plain vector.
void CheckRoundTrip(const std::vector<uint32_t>& values, uint64_t universe, std::mt19937_64& rng) {
  BigArray<uint64_t> words = {0xdeadbeef};  // a block need not start at word 0
  EliasFanoEncode(values, universe, &words);
  const uint64_t total = EliasFanoLayout(values.size(), universe).total_words();
  EXPECT_EQ(words.size() - 1, total);
  EXPECT_EQ(words[0], 0xdeadbeefu);
  // Encoding in place overwrites whatever the words held.
  std::vector<uint64_t> in_place(total, ~uint64_t{0});
  EliasFanoEncodeTo(values.data(), values.size(), universe, in_place.data());
  EXPECT_TRUE(std::equal(in_place.begin(), in_place.end(), words.begin() + 1));
  EliasFanoView view(words.data() + 1, values.size(), universe);
  std::vector<uint64_t> all;
  view.Decode(0, values.size(), [&](uint64_t v) { all.push_back(v); });
  ASSERT_EQ(all.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(all[i], values[i]) << i;
  for (int t = 0; t < 200; ++t) {
    const uint64_t first = rng() % values.size();
    const uint64_t count = rng() % (values.size() - first + 1);
    uint64_t i = first;
    view.Decode(first, count, [&](uint64_t v) { ASSERT_EQ(v, values[i++]); });
    EXPECT_EQ(i, first + count);
  }
}

TEST(EliasFano, RandomSetsOfManyDensities) {
  std::mt19937_64 rng(7);
  for (uint64_t universe : {1ull, 2ull, 63ull, 64ull, 65ull, 1000ull, 70000ull, 5000000ull}) {
    for (double density : {0.0001, 0.01, 0.3, 0.9, 1.0}) {
      std::vector<uint32_t> values;
      std::bernoulli_distribution pick(density);
      for (uint64_t v = 0; v < universe; ++v) {
        if (pick(rng)) values.push_back(static_cast<uint32_t>(v));
      }
      if (values.empty()) values.push_back(static_cast<uint32_t>(universe - 1));
      CheckRoundTrip(values, universe, rng);
    }
  }
}

TEST(EliasFano, SparseSetIsBelowTwoBytesPerElement) {
  // Every 1000th id of a million: the fully interleaved case with 1,000 components.
  std::vector<uint32_t> values;
  for (uint32_t v = 17; v < 1000000; v += 1000) values.push_back(v);
  const auto layout = EliasFanoLayout(values.size(), 1000000);
  EXPECT_LT(8.0 * layout.total_words() / values.size(), 2.0);
  std::mt19937_64 rng(1);
  CheckRoundTrip(values, 1000000, rng);
}

}  // namespace
}  // namespace mixtera::index
