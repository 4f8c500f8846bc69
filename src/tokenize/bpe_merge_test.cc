#include "tokenize/bpe_merge.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>
#include <vector>

namespace mixtera::tokenize {
namespace {

using Ids = std::vector<int32_t>;
using Rules = std::map<std::pair<int32_t, int32_t>, std::pair<uint32_t, int32_t>>;

// The textbook loop, written independently: rescan all pairs, merge the lowest rank, the
// leftmost among equals, until nothing merges.
Ids NaiveMerge(const Rules& rules, Ids ids) {
  while (true) {
    size_t best = ids.size();
    uint32_t best_rank = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      auto it = rules.find({ids[i], ids[i + 1]});
      if (it != rules.end() && (best == ids.size() || it->second.first < best_rank)) {
        best = i;
        best_rank = it->second.first;
      }
    }
    if (best == ids.size()) return ids;
    ids[best] = rules.at({ids[best], ids[best + 1]}).second;
    ids.erase(ids.begin() + best + 1);
  }
}

TEST(BpeMergeTest, HandWorkedExample) {
  // Symbols a=0 b=1 c=2; rules: (a b)->ab=3 rank 0, (ab c)->abc=4 rank 1, (b c)->bc=5 rank 2.
  MergeTable table;
  table.Add(0, 1, 0, 3);
  table.Add(3, 2, 1, 4);
  table.Add(1, 2, 2, 5);
  MergeScratch scratch;
  Ids ids = {0, 1, 2, 1, 2};  // a b c b c -> ab c b c -> abc b c -> abc bc
  ApplyMerges(table, &ids, &scratch);
  EXPECT_EQ(ids, (Ids{4, 5}));
  ids = {0, 0, 0};  // nothing merges
  ApplyMerges(table, &ids, &scratch);
  EXPECT_EQ(ids, (Ids{0, 0, 0}));
  ids = {};
  ApplyMerges(table, &ids, &scratch);
  EXPECT_TRUE(ids.empty());
}

TEST(BpeMergeTest, EqualRanksMergeLeftmostFirst) {
  // (a a)->aa rank 0: "a a a" must become "aa a", not "a aa".
  MergeTable table;
  table.Add(0, 0, 0, 1);
  MergeScratch scratch;
  Ids ids = {0, 0, 0};
  ApplyMerges(table, &ids, &scratch);
  EXPECT_EQ(ids, (Ids{1, 0}));
}

TEST(BpeMergeTest, DuplicatePairs) {
  MergeTable keep;
  keep.Add(0, 1, 5, 7);
  keep.Add(0, 1, 3, 8);  // lower rank wins
  keep.Add(0, 1, 4, 9);
  uint32_t rank;
  int32_t merged;
  ASSERT_TRUE(keep.Find(0, 1, &rank, &merged));
  EXPECT_EQ(rank, 3u);
  EXPECT_EQ(merged, 8);
  MergeTable replace;
  replace.Add(0, 1, 5, 7, MergeTable::OnDuplicate::kReplace);
  replace.Add(0, 1, 9, 8, MergeTable::OnDuplicate::kReplace);
  ASSERT_TRUE(replace.Find(0, 1, &rank, &merged));
  EXPECT_EQ(rank, 9u);
  EXPECT_EQ(merged, 8);
  EXPECT_FALSE(replace.Find(1, 0, &rank, &merged));
}

// Random rule sets and sequences, short (quadratic path) and long (heap path), against the
// naive loop.
TEST(BpeMergeTest, AgreesWithNaiveLoopOnRandomInput) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    const int alphabet = 2 + trial % 5;
    Rules rules;
    MergeTable table;
    int32_t next_id = alphabet;
    std::vector<int32_t> symbols;
    for (int32_t s = 0; s < alphabet; ++s) symbols.push_back(s);
    const int num_rules = 3 + static_cast<int>(rng() % 30);
    for (int r = 0; r < num_rules; ++r) {
      const int32_t left = symbols[rng() % symbols.size()];
      const int32_t right = symbols[rng() % symbols.size()];
      if (rules.count({left, right})) continue;
      const uint32_t rank = rng() % 8;  // many equal ranks
      rules[{left, right}] = {rank, next_id};
      table.Add(left, right, rank, next_id);
      symbols.push_back(next_id++);
    }
    const size_t length = trial % 2 == 0 ? 1 + rng() % 40 : 50 + rng() % 400;
    Ids ids(length);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % alphabet);
    const Ids expected = NaiveMerge(rules, ids);
    MergeScratch scratch;
    ApplyMerges(table, &ids, &scratch);
    ASSERT_EQ(ids, expected) << "trial " << trial;
  }
}

}  // namespace
}  // namespace mixtera::tokenize
