#include "chunk/plan.h"

#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <random>

namespace mixtera::chunk {
namespace {

// Per chunk, the count of every key (0 when absent), spelled out from the segments.
std::vector<std::vector<int64_t>> CountsPerChunk(const Plan& plan, size_t num_keys) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& seg : plan.segments()) {
    std::vector<int64_t> counts(num_keys, 0);
    for (uint32_t e = seg.entry_begin; e < seg.entry_end; ++e) {
      counts[plan.entries()[e].key] = plan.entries()[e].count;
    }
    for (int64_t i = 0; i < seg.num_chunks; ++i) out.push_back(counts);
  }
  return out;
}

using Counts = std::vector<std::vector<int64_t>>;

TEST(Plan, StrictStopsAtTheFirstChunkAKeyCannotFill) {
  // 50/30/20 samples, weights 0.4/0.4/0.2, chunk 10: 4/4/2 per chunk; the second key has
  // 30 samples = 7 chunks of 4 (28), so chunk 7 cannot be filled and the stream ends.
  Plan plan = Plan::Build({50, 30, 20}, {{0, {0.4, 0.4, 0.2}}}, 10, /*strict=*/true);
  EXPECT_EQ(plan.num_chunks(), 7);
  EXPECT_EQ(CountsPerChunk(plan, 3), Counts(7, {4, 4, 2}));
  EXPECT_EQ(plan.exhausted_at(), (std::vector<int64_t>{-1, -1, -1}));  // all have data left
  EXPECT_EQ(plan.delivered(), (std::vector<int64_t>{28, 28, 14}));
  EXPECT_NE(plan.end_reason().find("strict"), std::string::npos);
}

TEST(Plan, BestEffortReallocatesTheMissingShareAndDeliversEverything) {
  // Same data, best effort. Chunks 0-6: 4/4/2 (positions then 28/28/14).
  // Chunk 7: the second key has 2 left -> takes 2, deficit 2, split by largest remainder of
  //   the other keys' counts 4 and 2: 2*4/6 = 1.33, 2*2/6 = 0.67 -> 1 and 0, the leftover
  //   unit goes to the larger remainder (0.67) -> +1/+1 -> 5/2/3.
  // Chunk 8: keys 0 and 2 remain (17 and 3 left), weights 0.4/0.2 -> 6.67/3.33 -> 7/3.
  // Chunk 9: only key 0 remains with 10 left -> 10/0/0. Total 100 = all data.
  Plan plan = Plan::Build({50, 30, 20}, {{0, {0.4, 0.4, 0.2}}}, 10, /*strict=*/false);
  Counts expected(7, {4, 4, 2});
  expected.push_back({5, 2, 3});
  expected.push_back({7, 0, 3});
  expected.push_back({10, 0, 0});
  EXPECT_EQ(CountsPerChunk(plan, 3), expected);
  EXPECT_EQ(plan.delivered(), (std::vector<int64_t>{50, 30, 20}));
  EXPECT_EQ(plan.exhausted_at(), (std::vector<int64_t>{9, 7, 8}));
  EXPECT_FALSE(plan.segments().back().partial);
}

TEST(Plan, OnlyTheLastChunkIsPartial) {
  // Weights 0.999/0.001, chunk 10: counts 10/0 (9.99 -> 9 plus the larger remainder).
  // Chunks 0-1 take 20 of key 0's 25. Chunk 2: key 0 gives its last 5; the only key with
  // data left has count 0, so the deficit is split by remaining data: key 1 gives 5.
  // Chunk 3: key 1 alone (2 left) -> a partial chunk of 2, the end.
  Plan plan = Plan::Build({25, 7}, {{0, {0.999, 0.001}}}, 10, /*strict=*/false);
  EXPECT_EQ(CountsPerChunk(plan, 2), (Counts{{10, 0}, {10, 0}, {5, 5}, {0, 2}}));
  EXPECT_TRUE(plan.segments().back().partial);
  for (size_t i = 0; i + 1 < plan.segments().size(); ++i) EXPECT_FALSE(plan.segments()[i].partial);
  EXPECT_EQ(plan.delivered(), (std::vector<int64_t>{25, 7}));
}

TEST(Plan, ScheduleSwitchesAtItsChunkAndKeepsPositions) {
  // Key 0 alone for chunks 0-2, then key 1 alone; key 1 has 100 samples = 10 chunks.
  Plan plan = Plan::Build({100, 100}, {{0, {1, 0}}, {3, {0, 1}}}, 10, /*strict=*/true);
  EXPECT_EQ(plan.num_chunks(), 13);
  EXPECT_EQ(plan.SegmentOf(2).mixture_id, 0);
  EXPECT_EQ(plan.SegmentOf(3).mixture_id, 1);
  EXPECT_EQ(plan.SegmentOf(12).mixture_id, 1);
  EXPECT_EQ(plan.delivered(), (std::vector<int64_t>{30, 100}));
  // Back to key 0 at chunk 5: it continues at position 30, not 0.
  Plan back = Plan::Build({100, 100}, {{0, {1, 0}}, {3, {0, 1}}, {5, {1, 0}}}, 10, true);
  const auto& seg = back.SegmentOf(5);
  EXPECT_EQ(back.entries()[seg.entry_begin].start, 30);
  EXPECT_EQ(back.num_chunks(), 5 + 7);
}

TEST(Plan, WindowUnitsGiveEveryKeyWholeWindows) {
  // Windows of 11 tokens back to back: chunk_size 100 -> 9 windows, weights 2:1 -> 6 and 3
  // windows = 66 and 33 tokens per chunk.
  Plan plan =
      Plan::Build({660, 1000}, {{0, {2, 1}}}, 100, /*strict=*/true, PlanUnits{.window_stride = 11});
  EXPECT_EQ(plan.num_chunks(), 10);
  EXPECT_EQ(CountsPerChunk(plan, 2), Counts(10, {66, 33}));
  // Overlapping windows of 10 + 1 tokens: n windows need 10 n + 1 tokens; (100 - 1) / 10 = 9
  // windows -> 6 and 3 -> 61 and 31 tokens.
  Plan overlap = Plan::Build({610, 1000}, {{0, {2, 1}}}, 100, /*strict=*/true,
                             PlanUnits{.window_stride = 10, .window_extra = 1});
  EXPECT_EQ(CountsPerChunk(overlap, 2), Counts(10, {61, 31}));
  // A chunk smaller than a window still holds one.
  Plan tiny = Plan::Build({100}, {{0, {1}}}, 5, true, PlanUnits{.window_stride = 11});
  EXPECT_EQ(CountsPerChunk(tiny, 1), Counts(9, {11}));
}

TEST(Plan, CountsAlwaysSumToChunkSizeExceptTheLast) {
  // Random supplies and weights: every chunk but a final partial one is exactly full, and
  // best effort delivers every sample of every key with weight.
  uint64_t state = 12345;
  auto next = [&]() {
    return (state = state * 6364136223846793005ull + 1442695040888963407ull) >> 33;
  };
  for (int trial = 0; trial < 200; ++trial) {
    const size_t K = 1 + next() % 6;
    std::vector<int64_t> supply(K);
    std::vector<double> weights(K);
    for (size_t k = 0; k < K; ++k) {
      supply[k] = static_cast<int64_t>(next() % 500);
      weights[k] = static_cast<double>(next() % 100);
    }
    if (std::accumulate(weights.begin(), weights.end(), 0.0) == 0) weights[0] = 1;
    const int64_t chunk = 1 + static_cast<int64_t>(next() % 64);
    Plan plan = Plan::Build(supply, {{0, weights}}, chunk, /*strict=*/false);
    const auto per_chunk = CountsPerChunk(plan, K);
    ASSERT_EQ(static_cast<int64_t>(per_chunk.size()), plan.num_chunks());
    for (size_t c = 0; c < per_chunk.size(); ++c) {
      const int64_t sum = std::accumulate(per_chunk[c].begin(), per_chunk[c].end(), int64_t{0});
      if (c + 1 < per_chunk.size()) {
        ASSERT_EQ(sum, chunk) << "trial " << trial << " chunk " << c;
      } else {
        ASSERT_LE(sum, chunk);
        ASSERT_GT(sum, 0);
      }
    }
    for (size_t k = 0; k < K; ++k) {
      ASSERT_EQ(plan.delivered()[k], weights[k] > 0 ? supply[k] : 0) << "trial " << trial;
    }
  }
}

// Everything a consumer of the plan reads, per segment and entry.
void ExpectSamePlan(const Plan& a, const Plan& b, const std::string& where) {
  ASSERT_EQ(a.num_chunks(), b.num_chunks()) << where;
  ASSERT_EQ(a.segments().size(), b.segments().size()) << where;
  for (size_t i = 0; i < a.segments().size(); ++i) {
    const PlanSegment &x = a.segments()[i], &y = b.segments()[i];
    ASSERT_EQ(x.first_chunk, y.first_chunk) << where << " segment " << i;
    ASSERT_EQ(x.num_chunks, y.num_chunks) << where << " segment " << i;
    ASSERT_EQ(x.mixture_id, y.mixture_id) << where << " segment " << i;
    ASSERT_EQ(x.partial, y.partial) << where << " segment " << i;
    ASSERT_EQ(x.entry_end - x.entry_begin, y.entry_end - y.entry_begin)
        << where << " segment " << i;
    for (uint32_t e = 0; e < x.entry_end - x.entry_begin; ++e) {
      const PlanEntry &p = a.entries()[x.entry_begin + e], &q = b.entries()[y.entry_begin + e];
      ASSERT_TRUE(p.key == q.key && p.count == q.count && p.start == q.start)
          << where << " segment " << i << " entry " << e;
    }
  }
  EXPECT_EQ(a.exhausted_at(), b.exhausted_at()) << where;
  EXPECT_EQ(a.delivered(), b.delivered()) << where;
  EXPECT_EQ(a.end_reason(), b.end_reason()) << where;
}

TEST(Plan, ExtendingEqualsBuildingTheWholeLog) {
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    const size_t keys = 1 + rng() % 5;
    std::vector<int64_t> supply(keys);
    for (auto& s : supply) s = rng() % 400;
    const bool strict = rng() % 2 == 0;
    PlanUnits units;
    if (rng() % 3 == 0) {
      units.window_stride = 3 + rng() % 4;
      units.window_extra = rng() % 2;
    }
    const int64_t chunk_size = 5 + rng() % 30;
    std::vector<MixtureEvent> log;
    int64_t start = 0;
    for (int e = 0; e < 1 + static_cast<int>(rng() % 8); ++e) {
      MixtureEvent event;
      event.start_chunk = start;
      for (size_t k = 0; k < keys; ++k)
        event.weights.push_back(rng() % 4 == 0 ? 0.0 : (rng() % 100) / 10.0);
      if (std::accumulate(event.weights.begin(), event.weights.end(), 0.0) == 0)
        event.weights[0] = 1;
      log.push_back(event);
      start += 1 + rng() % 12;
    }
    Plan extended = Plan::Build(supply, {log[0]}, chunk_size, strict, units);
    for (size_t e = 1; e < log.size(); ++e) {
      extended.Extend(log[e]);
      const std::vector<MixtureEvent> prefix(log.begin(), log.begin() + static_cast<long>(e) + 1);
      ExpectSamePlan(extended, Plan::Build(supply, prefix, chunk_size, strict, units),
                     "round " + std::to_string(round) + " after event " + std::to_string(e));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(Plan, TenThousandChangesCostWhatTheirOwnSegmentsCost) {
  // Every change replans from the previous change only: 10,000 changes one chunk apart on
  // 1,000 keys finish in about the time of planning 10,000 chunks once. (Not a timing
  // assertion: the segment count and the plan are checked; the time is printed.)
  const size_t keys = 1000;
  std::vector<int64_t> supply(keys, 1'000'000'000);
  std::vector<double> weights(keys, 1.0);
  const auto t0 = std::chrono::steady_clock::now();
  Plan plan = Plan::Build(supply, {{0, weights}}, 4096, true);
  std::mt19937 rng(1);
  for (int64_t c = 1; c <= 10'000; ++c) {
    weights[rng() % keys] = 1 + rng() % 3;
    plan.Extend({c, weights});
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ plan ] 10,000 mixture changes on 1,000 keys: %.3f s\n", seconds);
  ASSERT_EQ(plan.segments().size(), 10'001u);
  EXPECT_EQ(plan.segments().back().mixture_id, 10'000);
  EXPECT_EQ(plan.SegmentOf(5'000).first_chunk, 5'000);
}

}  // namespace
}  // namespace mixtera::chunk
