#include "chunk/key_stream.h"

#include <algorithm>
#include <bit>
#include <queue>

#include "base/macros.h"

namespace mixtera::chunk {

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void SortAndMergeTail(std::vector<index::SampleRange>* ranges, size_t start) {
  auto first = ranges->begin() + static_cast<std::ptrdiff_t>(start);
  if (ranges->end() - first <= 1) return;
  std::sort(first, ranges->end(), [](const auto& a, const auto& b) {
    return a.file_index != b.file_index ? a.file_index < b.file_index
                                        : (a.begin != b.begin ? a.begin < b.begin : a.end < b.end);
  });
  size_t w = start;
  for (size_t r = start; r < ranges->size(); ++r) {
    const index::SampleRange cur = (*ranges)[r];
    if (w > start && (*ranges)[w - 1].file_index == cur.file_index &&
        (*ranges)[w - 1].end == cur.begin) {
      (*ranges)[w - 1].end = cur.end;
    } else {
      (*ranges)[w++] = cur;
    }
  }
  ranges->resize(w);
}

void SortAndMergeRanges(std::vector<index::SampleRange>* ranges) { SortAndMergeTail(ranges, 0); }

KeyStream::KeyStream(std::vector<int64_t> components, std::vector<int64_t> sizes, int64_t repeat,
                     bool concatenated, int64_t shuffle_block, uint64_t stream_seed)
    : components_(std::move(components)),
      sizes_(std::move(sizes)),
      repeat_(repeat),
      concatenated_(concatenated),
      shuffle_block_(shuffle_block),
      seed_(stream_seed) {
  MIXTERA_CHECK(components_.size() == sizes_.size() && repeat_ >= 1);
  prefix_.reserve(sizes_.size());
  for (int64_t s : sizes_) {
    MIXTERA_CHECK(s > 0);
    prefix_.push_back(epoch_size_);
    epoch_size_ += s;
  }
}

void KeyStream::ComponentCounts(int64_t o, std::vector<int64_t>* counts) const {
  const size_t m = sizes_.size();
  counts->assign(m, 0);
  if (o <= 0) return;
  if (o >= epoch_size_) {
    *counts = sizes_;
    return;
  }
  if (m == 1) {
    (*counts)[0] = o;
    return;
  }
  if (concatenated_) {
    for (size_t i = 0; i < m; ++i) (*counts)[i] = std::clamp<int64_t>(o - prefix_[i], 0, sizes_[i]);
    return;
  }
  // Items of component i strictly before time o / S: #{j : (2j+1) S < 2 o S_i}.
  using i128 = __int128;
  const i128 S = epoch_size_;
  int64_t total = 0;
  for (size_t i = 0; i < m; ++i) {
    const i128 num = 2 * static_cast<i128>(o) * sizes_[i] - S;
    int64_t c = 0;
    if (num > 0) c = static_cast<int64_t>((num + 2 * S - 1) / (2 * S));
    c = std::min(c, sizes_[i]);
    (*counts)[i] = c;
    total += c;
  }
  // Item j of component i is at time (2j+1)/(2 S_i); compare two items exactly, ties by
  // component index.
  auto earlier = [this](size_t a, int64_t ja, size_t b, int64_t jb) {
    const i128 lhs = static_cast<i128>(2 * ja + 1) * sizes_[b];
    const i128 rhs = static_cast<i128>(2 * jb + 1) * sizes_[a];
    return lhs != rhs ? lhs < rhs : a < b;
  };
  if (total < o) {
    // Take the next items in merge order.
    auto later = [&](size_t a, size_t b) { return earlier(b, (*counts)[b], a, (*counts)[a]); };
    std::priority_queue<size_t, std::vector<size_t>, decltype(later)> next(later);
    for (size_t i = 0; i < m; ++i) {
      if ((*counts)[i] < sizes_[i]) next.push(i);
    }
    while (total < o) {
      const size_t i = next.top();
      next.pop();
      ++(*counts)[i];
      ++total;
      if ((*counts)[i] < sizes_[i]) next.push(i);
    }
  } else if (total > o) {
    // Give back the latest items taken.
    auto before = [&](size_t a, size_t b) {
      return earlier(a, (*counts)[a] - 1, b, (*counts)[b] - 1);
    };
    std::priority_queue<size_t, std::vector<size_t>, decltype(before)> last(before);
    for (size_t i = 0; i < m; ++i) {
      if ((*counts)[i] > 0) last.push(i);
    }
    while (total > o) {
      const size_t i = last.top();
      last.pop();
      --(*counts)[i];
      --total;
      if ((*counts)[i] > 0) last.push(i);
    }
  }
}

int64_t KeyStream::PermuteBlock(size_t i, int64_t epoch, int64_t block, int64_t num_blocks) const {
  if (num_blocks <= 1) return block;
  // A balanced Feistel network over the smallest even bit width covering num_blocks, with
  // cycle walking: a bijection on [0, num_blocks) computed in O(1) expected time.
  int bits = std::bit_width(static_cast<uint64_t>(num_blocks - 1));
  if (bits % 2 == 1) ++bits;
  const int half = bits / 2;
  const uint64_t mask = (uint64_t{1} << half) - 1;
  const uint64_t key =
      Mix64(seed_ ^ Mix64(static_cast<uint64_t>(components_[i]) * 0x100000001b3ull +
                          static_cast<uint64_t>(epoch)));
  uint64_t x = static_cast<uint64_t>(block);
  do {
    uint64_t left = x >> half, right = x & mask;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t f = Mix64(key + round * 0x9e3779b97f4a7c15ull + right) & mask;
      const uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    x = (left << half) | right;
  } while (x >= static_cast<uint64_t>(num_blocks));
  return static_cast<int64_t>(x);
}

void KeyStream::ExtractComponent(const index::ChunkerIndex& index, size_t i, int64_t epoch,
                                 int64_t a, int64_t b, std::vector<index::SampleRange>* out) const {
  if (a >= b) return;
  const int64_t c = components_[i];
  if (shuffle_block_ <= 0) {
    index.Extract(c, a, b, out);
    return;
  }
  const int64_t B = shuffle_block_;
  const int64_t full_blocks = sizes_[i] / B;
  int64_t x = a;
  while (x < b) {
    const int64_t block = x / B;
    if (block >= full_blocks) {  // the trailing partial block keeps its place
      index.Extract(c, x, b, out);
      return;
    }
    const int64_t block_end = std::min(b, (block + 1) * B);
    const int64_t target = PermuteBlock(i, epoch, block, full_blocks) * B + (x - block * B);
    index.Extract(c, target, target + (block_end - x), out);
    x = block_end;
  }
}

void KeyStream::Extract(const index::ChunkerIndex& index, int64_t begin, int64_t end,
                        std::vector<index::SampleRange>* out) const {
  MIXTERA_CHECK(0 <= begin && begin <= end && end <= total_size());
  if (components_.size() == 1) {  // one component: stream positions are its positions
    int64_t p = begin;
    while (p < end) {
      const int64_t epoch = p / epoch_size_;
      const int64_t o0 = p - epoch * epoch_size_;
      const int64_t o1 = std::min(end - epoch * epoch_size_, epoch_size_);
      ExtractComponent(index, 0, epoch, o0, o1, out);
      p = epoch * epoch_size_ + o1;
    }
    return;
  }
  std::vector<int64_t> lo, hi;
  int64_t p = begin;
  while (p < end) {
    const int64_t epoch = p / epoch_size_;
    const int64_t o0 = p - epoch * epoch_size_;
    const int64_t o1 = std::min(end - epoch * epoch_size_, epoch_size_);
    ComponentCounts(o0, &lo);
    ComponentCounts(o1, &hi);
    for (size_t i = 0; i < components_.size(); ++i) {
      ExtractComponent(index, i, epoch, lo[i], hi[i], out);
    }
    p = epoch * epoch_size_ + o1;
  }
}

}  // namespace mixtera::chunk
