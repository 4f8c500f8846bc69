#include "chunk/key_stream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

namespace mixtera::chunk {
namespace {

TEST(KeyStream, BlendCountsByHand) {
  // Sizes 3 and 1 (S = 4): component 0's items sit at times 1/6, 3/6, 5/6 and component
  // 1's at 1/2 = 3/6. Merge order: c0, c0 (tie at 3/6 -> lower component first), c1, c0.
  KeyStream s({10, 20}, {3, 1}, 1, false, 0, 0);
  std::vector<int64_t> counts;
  const std::vector<std::vector<int64_t>> expected = {{0, 0}, {1, 0}, {2, 0}, {2, 1}, {3, 1}};
  for (int64_t o = 0; o <= 4; ++o) {
    s.ComponentCounts(o, &counts);
    EXPECT_EQ(counts, expected[o]) << "o = " << o;
  }
}

TEST(KeyStream, BlendIsMonotoneExactAndProportional) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 100; ++trial) {
    const size_t m = 1 + rng() % 12;
    std::vector<int64_t> sizes(m), comps(m);
    int64_t total = 0;
    for (size_t i = 0; i < m; ++i) {
      sizes[i] = 1 + static_cast<int64_t>(rng() % (trial % 2 ? 50 : 5000));
      comps[i] = static_cast<int64_t>(i);
      total += sizes[i];
    }
    KeyStream s(comps, sizes, 1, false, 0, 0);
    std::vector<int64_t> prev(m, 0), cur;
    for (int64_t o = 0; o <= total; o += 1 + static_cast<int64_t>(rng() % 7)) {
      s.ComponentCounts(o, &cur);
      int64_t sum = 0;
      for (size_t i = 0; i < m; ++i) {
        sum += cur[i];
        ASSERT_GE(cur[i], prev[i]) << "not monotone";
        // Fairness: the prefix is the merge up to some time t, and each component's count is
        // within 1/2 of t * S_i, so any two components' progress fractions differ by at
        // most 1/(2 S_i) + 1/(2 S_l).
        for (size_t l = 0; l < m; ++l) {
          const double gap = std::fabs(static_cast<double>(cur[i]) / sizes[i] -
                                       static_cast<double>(cur[l]) / sizes[l]);
          ASSERT_LE(gap, 0.5 / sizes[i] + 0.5 / sizes[l] + 1e-12) << "o=" << o;
        }
      }
      ASSERT_EQ(sum, o);
      prev = cur;
    }
    s.ComponentCounts(total, &cur);
    EXPECT_EQ(cur, sizes);
  }
}

// An index with one component per size, each laid out as consecutive samples of file 0
// (component c owns samples [offset_c, offset_c + size_c)).
std::unique_ptr<index::ChunkerIndex> MakeIndex(const std::vector<int64_t>& sizes) {
  index::ChunkerIndexBuilder b;
  for (size_t c = 0; c < sizes.size(); ++c) b.AddComponent();
  b.BeginFile(0);
  uint32_t offset = 0;
  for (size_t c = 0; c < sizes.size(); ++c) {
    b.AddRun(static_cast<int64_t>(c), offset, offset + static_cast<uint32_t>(sizes[c]));
    offset += static_cast<uint32_t>(sizes[c]);
  }
  b.EndFile();
  std::vector<int64_t> order(sizes.size());
  for (size_t c = 0; c < sizes.size(); ++c) order[c] = static_cast<int64_t>(c);
  return b.Finish(order);
}

std::vector<uint32_t> Samples(const std::vector<index::SampleRange>& ranges) {
  std::vector<uint32_t> out;
  for (const auto& r : ranges) {
    for (uint32_t v = r.begin; v < r.end; ++v) out.push_back(v);
  }
  return out;
}

TEST(KeyStream, ShuffleIsAPermutationPerEpochAndKeepsBlocksSequential) {
  const std::vector<int64_t> sizes = {1000, 37};
  auto index = MakeIndex(sizes);
  for (int64_t block : {1, 8, 64}) {
    KeyStream s({0, 1}, sizes, /*repeat=*/2, false, block, /*seed=*/99);
    for (int64_t epoch = 0; epoch < 2; ++epoch) {
      std::vector<index::SampleRange> ranges;
      s.Extract(*index, epoch * 1037, (epoch + 1) * 1037, &ranges);
      std::vector<uint32_t> got = Samples(ranges);
      std::multiset<uint32_t> seen(got.begin(), got.end());
      ASSERT_EQ(seen.size(), 1037u);
      for (uint32_t v = 0; v < 1037; ++v) ASSERT_EQ(seen.count(v), 1u) << v;
    }
    // Component 0 in epoch order, one position at a time: every full block is a run of
    // `block` consecutive samples, and the order is not file order.
    std::vector<uint32_t> order;
    KeyStream only0({0}, {1000}, 2, false, block, 99);
    for (int64_t p = 0; p < 1000; ++p) {
      std::vector<index::SampleRange> r;
      only0.Extract(*index, p, p + 1, &r);
      order.push_back(Samples(r)[0]);
    }
    for (int64_t b = 0; b < 1000 / block; ++b) {
      for (int64_t i = 1; i < block; ++i) ASSERT_EQ(order[b * block + i], order[b * block] + i);
      ASSERT_EQ(order[b * block] % block, 0u);
    }
    std::vector<uint32_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_NE(order, sorted);
    // The second epoch is ordered differently from the first.
    std::vector<index::SampleRange> e0, e1;
    only0.Extract(*index, 0, 1000, &e0);
    only0.Extract(*index, 1000, 2000, &e1);
    EXPECT_NE(e0, e1);
  }
}

TEST(KeyStream, SameSeedSameOrderOtherSeedOtherOrder) {
  auto index = MakeIndex({500});
  auto run = [&](uint64_t seed) {
    KeyStream s({0}, {500}, 1, false, 4, seed);
    std::vector<index::SampleRange> r;
    for (int64_t p = 0; p < 500; p += 10) s.Extract(*index, p, p + 10, &r);
    return r;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

TEST(KeyStream, SortAndMergeKeepsDuplicatesApart) {
  std::vector<index::SampleRange> r = {{1, 5, 7}, {0, 3, 4}, {1, 0, 5}, {0, 3, 4}};
  SortAndMergeRanges(&r);
  EXPECT_EQ(r, (std::vector<index::SampleRange>{{0, 3, 4}, {0, 3, 4}, {1, 0, 7}}));
}

}  // namespace
}  // namespace mixtera::chunk
