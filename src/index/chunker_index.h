// ChunkerIndex: for every component of a query (a distinct combination of grouping
// property values, DESIGN.md §3.4), the matching samples of every file, in file order.
//
// Each component is a *stream*: its samples ordered by (file index, sample id). Position p
// of component c is its p-th sample; Extract() turns any position interval into maximal
// sample ranges by random access (binary search, then decoding), so chunk k can be computed
// without walking the earlier chunks.
//
// Storage is flat, with no string keys: per (component, file) pair one 24-byte entry
// holding either sorted disjoint ranges (when samples come in runs) or an Elias-Fano set of
// sample ids (when runs are short), whichever is smaller; a pair with one run keeps it
// inline. Pairs with only a few scattered samples share one Elias-Fano set per component that
// spans files (values: global sample numbers, see file_base_). Memory is 24 bytes per entry
// plus 12 per further range for clustered data, and about the Elias-Fano bound (under 2 bytes
// per sample down to 1 sample in 10,000) for fully interleaved data. The same layout is the
// on-disk format (docs/job_format.md), so a saved index is used in place from an mmap.
//
// Component keys (the property values) are not stored here: the caller numbers components
// (see ChunkerIndexBuilder::Finish) and keeps their keys.
//
// Thread safety: a finished index is immutable; concurrent readers are safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/big_array.h"
#include "mixtera/result.h"

namespace mixtera::index {

// Samples [begin, end) of the file at `file_index` in the job's file table.
struct SampleRange {
  uint32_t file_index = 0;
  uint32_t begin = 0;
  uint32_t end = 0;
  bool operator==(const SampleRange& o) const = default;
};

class ChunkerIndex {
 public:
  ChunkerIndex(const ChunkerIndex&) = delete;
  ChunkerIndex& operator=(const ChunkerIndex&) = delete;
  ~ChunkerIndex();

  // Maps a file written by Save(). Errors: IOError (cannot open/map), Corruption (bad
  // magic, truncated, or inconsistent sizes), naming the path.
  static Result<std::unique_ptr<ChunkerIndex>> Load(const std::string& path);
  // Writes the index to `path` (replacing it). Errors: IOError naming the path.
  Status Save(const std::string& path) const;

  int64_t num_components() const { return static_cast<int64_t>(num_components_); }
  int64_t num_samples() const { return static_cast<int64_t>(num_samples_); }
  // Samples of component c.
  int64_t component_size(int64_t c) const;
  // (component, file) entries; runs stored as ranges; samples stored as Elias-Fano sets.
  int64_t num_entries() const { return static_cast<int64_t>(num_entries_); }
  int64_t num_ranges() const { return static_cast<int64_t>(num_ranges_); }
  int64_t num_set_samples() const;
  // Bytes of the arrays (what Save writes, less the header).
  int64_t bytes() const;

  // Appends to *out the samples at positions [begin, end) of component c's stream, as
  // maximal ranges in stream order (a range adjacent to out->back() in the same file is
  // merged into it). Requires 0 <= begin <= end <= component_size(c).
  void Extract(int64_t c, int64_t begin, int64_t end, std::vector<SampleRange>* out) const;

  // The files that hold samples of component c, with how many: (file_index, count), in
  // file order.
  std::vector<std::pair<uint32_t, int64_t>> ComponentFiles(int64_t c) const;

 private:
  friend class ChunkerIndexBuilder;
  struct Storage;
  ChunkerIndex();
  Status Bind(const uint8_t* data, size_t size, const std::string& origin);

  std::unique_ptr<Storage> storage_;
  uint64_t num_components_ = 0, num_entries_ = 0, num_ranges_ = 0, num_words_ = 0;
  uint64_t num_samples_ = 0;
  uint64_t num_files_ = 0;  // file slots (the largest file index + 1)
  // Views into storage_ (see docs/job_format.md for their meaning).
  const uint32_t* component_entry_begin_ = nullptr;  // [C + 1]; a job has < 2^32 entries
  // One (component, file) pair in 24 bytes, so random access touches one or two lines.
  struct EntryRecord {
    uint64_t position;       // global stream position of the first sample; [E] = num_samples
    uint64_t data;           // first range / first word / the single run's first sample
    uint32_t file_and_kind;  // file index (low 30 bits) | kind << 30
    uint32_t aux;            // range count, or set universe
    uint32_t file() const { return file_and_kind & kFileMask; }
    // 0 ranges, 1 set, 2 one run, 3 a set over several files
    uint32_t kind() const { return file_and_kind >> 30; }
  };
  static constexpr uint32_t kFileMask = (1u << 30) - 1;
  static_assert(sizeof(EntryRecord) == 24);
  const EntryRecord* entries_ = nullptr;    // [E + 1]
  const uint32_t* range_begin_ = nullptr;   // [R]
  const uint32_t* range_end_ = nullptr;     // [R]
  const uint32_t* range_offset_ = nullptr;  // [R] position of the range in its entry
  const uint64_t* words_ = nullptr;         // [W] Elias-Fano blocks
  // [F + 1] the global number of each file's sample 0: the sum of the sample-id universes
  // (largest id + 1) of the files before it; multi-file sets store global numbers.
  const uint64_t* file_base_ = nullptr;
};

// Builds an index file by file. Not thread-safe.
//
//   ChunkerIndexBuilder b;
//   int64_t c = b.AddComponent();
//   b.BeginFile(0); b.AddRun(c, 10, 20); b.EndFile();
//   auto index = b.Finish({0});
class ChunkerIndexBuilder {
 public:
  ChunkerIndexBuilder();
  ~ChunkerIndexBuilder();

  // Returns the next component id (0, 1, ...).
  int64_t AddComponent();
  int64_t num_components() const { return num_components_; }

  // Files must be begun in strictly increasing file_index order, one at a time.
  void BeginFile(uint32_t file_index);
  // Adds samples [begin, end) of the current file to `component`. Per component, runs
  // must be added in increasing order and must not overlap (adjacent runs are merged).
  void AddRun(int64_t component, uint32_t begin, uint32_t end);
  void EndFile();

  // A whole file at once, the same as BeginFile(file_index), one AddRun per sample and
  // EndFile(), but faster when components interleave: rows[i] = sample << 32 | component,
  // with strictly increasing samples (checked; the process aborts otherwise).
  void AddFile(uint32_t file_index, std::span<const uint64_t> rows);

  // The finished index with components renumbered: component i of the index is the
  // builder's component order[i]; `order` must be a permutation of [0, num_components()).
  // The builder is spent afterwards.
  std::unique_ptr<ChunkerIndex> Finish(const std::vector<int64_t>& order);

  // Samples added so far to component c (builder numbering).
  int64_t component_size(int64_t c) const { return component_sizes_[c]; }

 private:
  struct Run {
    uint32_t begin, end;
  };
  struct Entry {
    uint8_t kind;
    uint32_t file;
    uint32_t aux;
    uint64_t data;
    uint64_t count;
  };
  struct Pending;
  // The multi-file set entry of p's samples, encoded from word `first_word` on.
  static Entry MultiFileEntry(const Pending& p, uint64_t first_word);
  // Makes component c's pending set ready to take current-file samples below `universe`
  // (flushing it first when their values would not fit 32 bits); returns the shift from a
  // sample id to its value in the set.
  uint32_t OpenPending(int64_t c, uint64_t universe);
  void FlushComponent(int64_t c);
  void FlushPending(int64_t c);
  // FlushPending of every component (at Finish).
  void FlushAllPending();
  // Appends values [begin, end) to component c's pending samples.
  void AppendPending(int64_t c, uint32_t begin, uint32_t end);
  // Points p's tail at a new block (p.count is a multiple of kBlockValues).
  void AddPendingBlock(Pending& p);
  // Copies the pending samples to out[0, p.count).
  void CopyPending(const Pending& p, uint32_t* out) const;
  // Copies component c's pending samples to *out (replacing it), frees their blocks and
  // empties the list.
  void TakePending(int64_t c, std::vector<uint32_t>* out);

  int64_t num_components_ = 0;
  std::vector<int64_t> component_sizes_;
  // Entries per component in file order (builder numbering).
  std::vector<std::vector<Entry>> entries_;
  std::vector<uint32_t> range_begin_, range_end_, range_offset_;
  BigArray<uint64_t> words_;
  // file_base_[f]: see ChunkerIndex::file_base_; one past the last file begun.
  std::vector<uint64_t> file_base_ = {0};
  uint32_t file_universe_ = 0;  // the current file's largest sample id + 1 so far
  // Per component: the samples of small per-file sets not yet stored, which go into one
  // multi-file set starting at file `file`, as global numbers less that file's base. They
  // are kept in a linked list of fixed-size blocks from one pool (block b's values at
  // BlockValues(b), its successor block_next_[b]), so that ten thousands of components can
  // hold pending samples without a growing heap array each.
  static constexpr uint32_t kNoBlock = UINT32_MAX;
  struct Pending {
    uint32_t* tail_values = nullptr;            // the values of block `tail`
    uint32_t head = kNoBlock, tail = kNoBlock;  // first and last block
    uint32_t count = 0;                         // values held
    uint32_t last = 0;                          // the last value appended
    uint32_t file = 0;
  };
  // Per component, AddFile's statistics of the current file (count 0: not in the file).
  struct FileStats {
    uint32_t count = 0;
    uint32_t first = 0, last = 0;  // samples
    uint32_t shift = 0;            // pending: added to the file's samples
    bool pending = false;          // the file's samples go to the multi-file set
  };
  std::vector<FileStats> file_stats_;
  uint32_t* BlockValues(uint32_t block) {
    return pool_slabs_[block / kSlabBlocks].data() + (block % kSlabBlocks) * kBlockValues;
  }
  const uint32_t* BlockValues(uint32_t block) const {
    return pool_slabs_[block / kSlabBlocks].data() + (block % kSlabBlocks) * kBlockValues;
  }
  static constexpr uint32_t kBlockValues = 64;
  // Slabs of one huge page each (BigArray): tens of MiB of pending samples then cost a few
  // page faults instead of thousands.
  static constexpr uint32_t kSlabBlocks = kBigArrayHugeBytes / (kBlockValues * sizeof(uint32_t));
  std::vector<Pending> pending_;
  std::vector<BigArray<uint32_t>> pool_slabs_;
  std::vector<uint32_t> block_next_;
  std::vector<uint32_t> free_blocks_;
  // The current file's runs per component, and the components it touched.
  bool in_file_ = false;
  uint32_t file_index_ = 0;
  bool have_file_ = false;
  std::vector<std::vector<Run>> runs_;
  std::vector<int64_t> touched_;
  std::vector<uint32_t> scratch_;
};

}  // namespace mixtera::index
