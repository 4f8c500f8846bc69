#include "tokenize/bpe_merge.h"

#include <algorithm>

namespace mixtera::tokenize {

void MergeTable::Add(int32_t left, int32_t right, uint32_t rank, int32_t merged,
                     OnDuplicate on_duplicate) {
  if ((size_ + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
  const uint64_t key = Key(left, right);
  size_t i = Mix(key) & mask_;
  while (slots_[i].key != kEmpty) {
    if (slots_[i].key == key) {
      if (on_duplicate == OnDuplicate::kReplace || rank < slots_[i].rank) {
        slots_[i].rank = rank;
        slots_[i].merged = merged;
      }
      return;
    }
    i = (i + 1) & mask_;
  }
  slots_[i] = Slot{key, rank, merged};
  ++size_;
}

void MergeTable::Rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = Mix(s.key) & mask_;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

namespace {

constexpr uint32_t kNoMerge = ~uint32_t{0};
// Sequences up to this length use the quadratic scan, which beats the heap on short pieces.
constexpr size_t kShortSequence = 48;

void MergeShort(const MergeTable& table, std::vector<int32_t>* ids_ptr, MergeScratch* scratch) {
  std::vector<int32_t>& ids = *ids_ptr;
  std::vector<uint32_t>& rank = scratch->pair_rank;
  std::vector<int32_t>& merged = scratch->prev;  // the merged id of pair (i, i+1)
  size_t n = ids.size();
  rank.resize(n);
  merged.resize(n);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (!table.Find(ids[i], ids[i + 1], &rank[i], &merged[i])) rank[i] = kNoMerge;
  }
  while (n > 1) {
    uint32_t best = kNoMerge;
    size_t at = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (rank[i] < best) {
        best = rank[i];
        at = i;
      }
    }
    if (best == kNoMerge) break;
    ids[at] = merged[at];
    // Remove element at+1.
    for (size_t i = at + 1; i + 1 < n; ++i) {
      ids[i] = ids[i + 1];
      rank[i] = rank[i + 1];
      merged[i] = merged[i + 1];
    }
    --n;
    if (at + 1 < n) {
      if (!table.Find(ids[at], ids[at + 1], &rank[at], &merged[at])) rank[at] = kNoMerge;
    }
    if (at > 0) {
      if (!table.Find(ids[at - 1], ids[at], &rank[at - 1], &merged[at - 1])) {
        rank[at - 1] = kNoMerge;
      }
    }
  }
  ids.resize(n);
}

// Min-heap order: lower rank first, then the leftmost position.
struct CandidateAfter {
  bool operator()(const MergeScratch::Candidate& a, const MergeScratch::Candidate& b) const {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.left > b.left;
  }
};

void MergeLong(const MergeTable& table, std::vector<int32_t>* ids_ptr, MergeScratch* scratch) {
  std::vector<int32_t>& ids = *ids_ptr;
  const int32_t n = static_cast<int32_t>(ids.size());
  std::vector<int32_t>& prev = scratch->prev;
  std::vector<int32_t>& next = scratch->next;
  std::vector<MergeScratch::Candidate>& heap = scratch->heap;
  prev.resize(n);
  next.resize(n);
  heap.clear();
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  auto push = [&](int32_t left) {
    const int32_t right = next[left];
    uint32_t rank;
    int32_t merged;
    if (right >= 0 && table.Find(ids[left], ids[right], &rank, &merged)) {
      heap.push_back({rank, left, ids[left], ids[right]});
      std::push_heap(heap.begin(), heap.end(), CandidateAfter());
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), CandidateAfter());
    const MergeScratch::Candidate top = heap.back();
    heap.pop_back();
    const int32_t left = top.left;
    // Stale when the left symbol was absorbed (id -1), changed, or its right neighbour did.
    if (ids[left] != top.left_id) continue;
    const int32_t right = next[left];
    if (right < 0 || ids[right] != top.right_id) continue;
    uint32_t rank;
    int32_t merged;
    table.Find(top.left_id, top.right_id, &rank, &merged);
    ids[left] = merged;
    ids[right] = -1;
    next[left] = next[right];
    if (next[right] >= 0) prev[next[right]] = left;
    if (prev[left] >= 0) push(prev[left]);
    push(left);
  }
  int32_t out = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (ids[i] >= 0) ids[out++] = ids[i];
  }
  ids.resize(out);
}

}  // namespace

void ApplyMerges(const MergeTable& table, std::vector<int32_t>* ids, MergeScratch* scratch) {
  if (ids->size() < 2) return;
  if (ids->size() <= kShortSequence) {
    MergeShort(table, ids, scratch);
  } else {
    MergeLong(table, ids, scratch);
  }
}

}  // namespace mixtera::tokenize
