// KeyStream: the sample stream of one mixture key — a fixed, randomly accessible function
// from stream positions to samples (DESIGN.md §3.4).
//
// A key owns components 0..m-1 (sizes S_i, total S). One *epoch* of the key's stream holds
// every sample of its components exactly once; with `repeat: N` the stream is N epochs.
// Within an epoch the components are *blended*: component i's samples sit at virtual
// times (2j + 1) / (2 S_i), j = 0..S_i-1, and the epoch is their merge by time (ties: lower
// component first). So every prefix of the stream holds each component within one sample of
// its proportional share, and all components run out together — the random-access form of
// "split each chunk's count over the components by largest remainder of their sizes".
// In *concatenated* mode (arbitrary mixtures) the epoch is component 0, then 1, ...
//
// Within a component, the epoch's order is file order, or with `shuffle_block` B > 0 a
// seeded permutation of its full blocks of B samples (the trailing partial block stays
// last), different per epoch; reads stay sequential within blocks.
//
// Thread safety: immutable after construction; Extract is const and safe to call
// concurrently.
#pragma once

#include <cstdint>
#include <vector>

#include "index/chunker_index.h"

namespace mixtera::chunk {

class KeyStream {
 public:
  // `components` are ChunkerIndex component ids with their sizes (all > 0).
  // `stream_seed` seeds the shuffle (ignored when shuffle_block == 0).
  KeyStream(std::vector<int64_t> components, std::vector<int64_t> sizes, int64_t repeat,
            bool concatenated, int64_t shuffle_block, uint64_t stream_seed);

  // Samples in one epoch, and in the whole stream (epoch_size * repeat).
  int64_t epoch_size() const { return epoch_size_; }
  int64_t total_size() const { return epoch_size_ * repeat_; }
  int64_t repeat() const { return repeat_; }
  int64_t shuffle_block() const { return shuffle_block_; }
  const std::vector<int64_t>& components() const { return components_; }

  // How many of the first `o` samples of an epoch (0 <= o <= epoch_size) come from each
  // component; *counts gets one entry per component.
  void ComponentCounts(int64_t o, std::vector<int64_t>* counts) const;

  // Appends the samples at stream positions [begin, end) (end <= total_size()) as ranges,
  // per epoch and component in component order. Ranges are neither sorted nor merged
  // across components (a caller sorts them; see SortAndMergeRanges).
  void Extract(const index::ChunkerIndex& index, int64_t begin, int64_t end,
               std::vector<index::SampleRange>* out) const;

 private:
  // Maps epoch-order positions [a, b) of component i in `epoch` to file-order positions
  // and extracts them.
  void ExtractComponent(const index::ChunkerIndex& index, size_t i, int64_t epoch, int64_t a,
                        int64_t b, std::vector<index::SampleRange>* out) const;
  // The shuffle's permutation of the full blocks of component i in `epoch`.
  int64_t PermuteBlock(size_t i, int64_t epoch, int64_t block, int64_t num_blocks) const;

  std::vector<int64_t> components_;
  std::vector<int64_t> sizes_;
  std::vector<int64_t> prefix_;  // concatenated mode: start of each component
  int64_t epoch_size_ = 0;
  int64_t repeat_ = 1;
  bool concatenated_ = false;
  int64_t shuffle_block_ = 0;
  uint64_t seed_ = 0;
};

// SplitMix64 finalizer: a well-mixed 64-bit hash of x.
uint64_t Mix64(uint64_t x);

// Sorts ranges by (file, begin) and merges ranges that touch. Ranges that overlap (the same
// samples twice, possible only when a key repeats its data within one chunk) are kept
// apart, so no sample is lost.
void SortAndMergeRanges(std::vector<index::SampleRange>* ranges);
// The same for the ranges at positions [start, size()) of *ranges (the tail is sorted,
// merged and shrunk in place).
void SortAndMergeTail(std::vector<index::SampleRange>* ranges, size_t start);

}  // namespace mixtera::chunk
