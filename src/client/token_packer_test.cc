#include "client/token_packer.h"

#include <gtest/gtest.h>

namespace mixtera::client {
namespace {

using Docs = std::vector<std::vector<std::vector<int32_t>>>;
using V = std::vector<int32_t>;

// key 0: documents [1 2 3] [4 5]; key 1: [7 8 9 10 11]; windows of 3 tokens, EOS 0.
const Docs kDocs = {{{1, 2, 3}, {4, 5}}, {{7, 8, 9, 10, 11}}};

TEST(TokenPackerTest, NonOverlappingWithEos) {
  // key 0 stream: 1 2 3 0 4 5 0 -> [1 2 3] [0 4 5], 1 token wasted.
  // key 1 stream: 7 8 9 10 11 0 -> [7 8 9] [10 11 0], nothing wasted. Order: 0 1 0 1.
  PackedWindows w = PackWindows(kDocs, {5, 6}, {.sequence_length = 2, .eos = 0});
  EXPECT_EQ(w.window_length, 3);
  EXPECT_EQ(w.tokens, (V{1, 2, 3, 7, 8, 9, 0, 4, 5, 10, 11, 0}));
  EXPECT_EQ(w.key_ids, (V{5, 6, 5, 6}));
  EXPECT_EQ(w.wasted_tokens, (std::vector<int64_t>{1, 0}));
}

TEST(TokenPackerTest, OverlappingSharesOneToken) {
  // key 0 stream (7 tokens) at stride 2: [1 2 3] [3 0 4] [4 5 0]; key 1 (6): [7 8 9] [9 10 11],
  // 1 wasted. Counts 3 and 2 -> order 0 1 0 1 0.
  PackedWindows w =
      PackWindows(kDocs, {0, 1}, {.sequence_length = 2, .overlapping = true, .eos = 0});
  EXPECT_EQ(w.tokens, (V{1, 2, 3, 7, 8, 9, 3, 0, 4, 9, 10, 11, 4, 5, 0}));
  EXPECT_EQ(w.key_ids, (V{0, 1, 0, 1, 0}));
  EXPECT_EQ(w.wasted_tokens, (std::vector<int64_t>{0, 1}));
}

TEST(TokenPackerTest, BosAndDocumentStarts) {
  // BOS 9 only: key 0 stream 9 1 2 3 9 4 5 (starts at 0 and 4) -> [9 1 2 3] + 3 wasted.
  PackedWindows w = PackWindows({{{1, 2, 3}, {4, 5}}}, {0},
                                {.sequence_length = 3, .bos = 9, .document_starts = true});
  EXPECT_EQ(w.tokens, (V{9, 1, 2, 3}));
  EXPECT_EQ(w.doc_starts, (V{0}));
  EXPECT_EQ(w.doc_start_begin, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(w.wasted_tokens, (std::vector<int64_t>{3}));
  // Windows of 2: [9 1] [2 3] [9 4]: starts {0}, {}, {0}; "5" wasted.
  w = PackWindows({{{1, 2, 3}, {4, 5}}}, {0},
                  {.sequence_length = 1, .bos = 9, .document_starts = true});
  EXPECT_EQ(w.tokens, (V{9, 1, 2, 3, 9, 4}));
  EXPECT_EQ(w.doc_starts, (V{0, 0}));
  EXPECT_EQ(w.doc_start_begin, (std::vector<int64_t>{0, 1, 1, 2}));
  EXPECT_EQ(w.wasted_tokens, (std::vector<int64_t>{1}));
}

TEST(TokenPackerTest, TooFewTokensAreAllWaste) {
  PackedWindows w = PackWindows({{{1, 2}}, {}}, {0, 1}, {.sequence_length = 5});
  EXPECT_EQ(w.num_windows(), 0);
  EXPECT_EQ(w.wasted_tokens, (std::vector<int64_t>{2, 0}));
}

}  // namespace
}  // namespace mixtera::client
