// The BPE merge engine shared by every BPE tokenizer (HF tokenizer.json, tiktoken rank files,
// SentencePiece BPE models): a table of mergeable adjacent id pairs and the loop that applies
// them to a symbol sequence.
//
// The rule (identical in HF tokenizers' BPE, tiktoken and SentencePiece's BPE model): while
// some adjacent pair is mergeable, merge the pair with the lowest rank, the leftmost one among
// equal ranks, into the pair's merged id. Ranks are the merge order for HF `merges`, the rank
// of the concatenated token for tiktoken, and the order of decreasing piece score for
// SentencePiece.
//
// Thread safety: a MergeTable is immutable after building; ApplyMerges uses only its
// arguments and the caller's scratch space.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mixtera::tokenize {

class MergeTable {
 public:
  MergeTable() { Rehash(16); }

  // How Add treats a pair that is already present.
  enum class OnDuplicate { kKeepLowerRank, kReplace };

  // Makes (left, right) mergeable into `merged` with `rank`. A pair already present keeps the
  // lower rank (ties keep the first), or is replaced (HF tokenizers builds its merge map so
  // that a later duplicate line wins). Not thread-safe.
  void Add(int32_t left, int32_t right, uint32_t rank, int32_t merged,
           OnDuplicate on_duplicate = OnDuplicate::kKeepLowerRank);

  // Makes room for `n` pairs without rehashing.
  void Reserve(size_t n) {
    size_t capacity = slots_.size();
    while (capacity < 2 * n + 2) capacity *= 2;
    if (capacity != slots_.size()) Rehash(capacity);
  }

  // Looks up (left, right): true with *rank and *merged set when it is mergeable.
  bool Find(int32_t left, int32_t right, uint32_t* rank, int32_t* merged) const {
    const uint64_t key = Key(left, right);
    size_t i = Mix(key) & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) {
        *rank = s.rank;
        *merged = s.merged;
        return true;
      }
      if (s.key == kEmpty) return false;
      i = (i + 1) & mask_;
    }
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t rank = 0;
    int32_t merged = 0;
  };
  static uint64_t Key(int32_t left, int32_t right) {
    return (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
  }
  static uint64_t Mix(uint64_t x) {
    x *= 0x9E3779B97F4A7C15ULL;
    return x ^ (x >> 32);
  }
  void Rehash(size_t capacity);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Reusable buffers for ApplyMerges (one per thread).
struct MergeScratch {
  std::vector<int32_t> prev, next;
  // Candidates of the long-sequence loop as (rank << 32) | left position: a min-heap of
  // 8-byte keys gives lowest rank first, then leftmost.
  std::vector<uint64_t> heap;
  std::vector<uint32_t> pair_rank;
};

// Applies the merges of `table` to `ids` in place (see the rule above). O(n^2) with tiny
// constants for short sequences and O(n log n) (a heap of candidate pairs over a linked list)
// for long ones, so a whole document as one piece stays fast.
void ApplyMerges(const MergeTable& table, std::vector<int32_t>* ids, MergeScratch* scratch);

}  // namespace mixtera::tokenize
