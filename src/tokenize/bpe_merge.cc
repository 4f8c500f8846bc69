#include "tokenize/bpe_merge.h"

#include <algorithm>
#include <functional>

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

// A min-heap of 8-byte keys with 8 children per node: the children of a node share one cache
// line, so a 10-million-entry heap costs a third of the cache misses of a binary heap.
class EightAryMinHeap {
 public:
  explicit EightAryMinHeap(std::vector<uint64_t>* storage) : v_(*storage) {}

  bool empty() const { return v_.empty(); }

  // Turns the unordered contents into a heap.
  void Heapify() {
    if (v_.size() < 2) return;
    for (size_t i = (v_.size() - 2) / kArity + 1; i-- > 0;) SiftDown(i);
  }
  void Push(uint64_t key) {
    size_t i = v_.size();
    v_.push_back(key);
    while (i > 0) {
      const size_t parent = (i - 1) / kArity;
      if (v_[parent] <= key) break;
      v_[i] = v_[parent];
      i = parent;
    }
    v_[i] = key;
  }
  uint64_t Pop() {
    const uint64_t top = v_[0];
    v_[0] = v_.back();
    v_.pop_back();
    if (!v_.empty()) SiftDown(0);
    return top;
  }

 private:
  static constexpr size_t kArity = 8;
  void SiftDown(size_t i) {
    const uint64_t key = v_[i];
    const size_t n = v_.size();
    while (true) {
      const size_t first = i * kArity + 1;
      if (first >= n) break;
      const size_t last = std::min(first + kArity, n);
      size_t best = first;
      for (size_t c = first + 1; c < last; ++c) {
        if (v_[c] < v_[best]) best = c;
      }
      if (v_[best] >= key) break;
      v_[i] = v_[best];
      i = best;
    }
    v_[i] = key;
  }
  std::vector<uint64_t>& v_;
};

void MergeLong(const MergeTable& table, std::vector<int32_t>* ids_ptr, MergeScratch* scratch) {
  std::vector<int32_t>& ids = *ids_ptr;
  const int32_t n = static_cast<int32_t>(ids.size());
  std::vector<int32_t>& prev = scratch->prev;
  std::vector<int32_t>& next = scratch->next;
  std::vector<uint64_t>& heap = scratch->heap;
  prev.resize(n);
  next.resize(n);
  heap.clear();
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  EightAryMinHeap queue(&heap);
  auto push = [&](int32_t left) {
    const int32_t right = next[left];
    uint32_t rank;
    int32_t merged;
    if (right >= 0 && table.Find(ids[left], ids[right], &rank, &merged)) {
      queue.Push((uint64_t{rank} << 32) | static_cast<uint32_t>(left));
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) {
    uint32_t rank;
    int32_t merged;
    if (table.Find(ids[i], ids[i + 1], &rank, &merged)) {
      heap.push_back((uint64_t{rank} << 32) | static_cast<uint32_t>(i));
    }
  }
  queue.Heapify();
  while (!queue.empty()) {
    const uint64_t top = queue.Pop();
    const auto left = static_cast<int32_t>(top & 0xFFFFFFFFu);
    const auto top_rank = static_cast<uint32_t>(top >> 32);
    // Stale unless `left` is alive and the pair starting there still has this rank. (Another
    // pair with the same rank at the same place is just as much the next merge.)
    if (ids[left] < 0) continue;
    const int32_t right = next[left];
    if (right < 0) continue;
    uint32_t rank;
    int32_t merged;
    if (!table.Find(ids[left], ids[right], &rank, &merged) || rank != top_rank) continue;
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
