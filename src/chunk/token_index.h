// Exact token positions in a key's stream (`unit: tokens` with exact counts, DESIGN.md §3.4).
//
// A key's token stream is its samples' tokens back to back, in stream order (KeyStream),
// each sample counting its tokenizer tokens plus `extra_per_sample` (BOS and/or EOS). The
// plan hands each chunk a token interval [T0, T1) of every key; KeyTokenIndex turns token
// positions back into stream positions: which sample holds token T, and how far into it.
//
// Per epoch it keeps the cumulative token count at every kCheckpointSamples-th stream
// position; a lookup binary-searches the checkpoints, then the positions within one block,
// summing the tokens of extracted ranges (order-free: a sum), so it costs about
// log2(kCheckpointSamples) extractions of at most one block. Memory: 8 bytes per
// kCheckpointSamples samples per distinct epoch order (one epoch without shuffling, every
// epoch with it).
//
// Thread safety: immutable after Build; const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/macros.h"
#include "chunk/key_stream.h"
#include "formats/offsets_file.h"
#include "formats/token_counts_file.h"
#include "index/chunker_index.h"
#include "mixtera/result.h"

namespace mixtera::chunk {

// Tokens of any range of samples of a job's files: exact (token counts files) or estimated.
// Implementations are additive: Tokens([a, c)) = Tokens([a, b)) + Tokens([b, c)).
// Errors: Corruption when a file the count is read from (offsets) does not decode.
class RangeTokenCounter {
 public:
  virtual ~RangeTokenCounter() = default;
  virtual Result<int64_t> Tokens(const index::SampleRange& r) const = 0;
  Result<int64_t> Tokens(const std::vector<index::SampleRange>& ranges) const {
    int64_t sum = 0;
    for (const auto& r : ranges) {
      MIXTERA_ASSIGN_OR_RETURN(int64_t tokens, Tokens(r));
      sum += tokens;
    }
    return sum;
  }
};

// Exact: `files[i]` holds the counts of job file i; `extra_per_sample` (BOS/EOS) is added
// per sample.
class ExactTokenCounter final : public RangeTokenCounter {
 public:
  ExactTokenCounter(std::vector<std::unique_ptr<formats::TokenCountsReader>> files,
                    int64_t extra_per_sample)
      : files_(std::move(files)), extra_(extra_per_sample) {}
  Result<int64_t> Tokens(const index::SampleRange& r) const override {
    return files_[r.file_index]->RangeTokens(r.begin, r.end) +
           extra_ * static_cast<int64_t>(r.end - r.begin);
  }

 private:
  std::vector<std::unique_ptr<formats::TokenCountsReader>> files_;
  int64_t extra_;
};

// Estimated (DESIGN.md §3.4): a sample's tokens are its record bytes (offsets file) times
// the key's tokens per byte; files without byte offsets (Parquet) count the key's mean
// tokens per sample. The running totals are floored at range ends, which keeps the count
// additive. `files[i]` is job file i's offsets, or null.
class EstimatedTokenCounter final : public RangeTokenCounter {
 public:
  EstimatedTokenCounter(std::vector<std::shared_ptr<const formats::OffsetsReader>> files,
                        double tokens_per_byte, double tokens_per_sample)
      : files_(std::move(files)),
        tokens_per_byte_(tokens_per_byte),
        tokens_per_sample_(tokens_per_sample),
        serial_(NextSerial()) {}
  Result<int64_t> Tokens(const index::SampleRange& r) const override;

 private:
  // Bytes before record i of job file `file` (the end of the last record for i =
  // num_records). Each thread keeps the last offsets block it decoded (keyed by this
  // counter's serial and the file), so neighbouring lookups cost no decoding. Errors:
  // Corruption naming the offsets file when its block does not decode.
  Result<int64_t> BytesBefore(uint32_t file, int64_t i) const;
  static uint64_t NextSerial();

  std::vector<std::shared_ptr<const formats::OffsetsReader>> files_;
  double tokens_per_byte_;
  double tokens_per_sample_;
  uint64_t serial_;  // unique per counter: tells thread-local block caches apart
};

class KeyTokenIndex {
 public:
  static constexpr int64_t kCheckpointSamples = 4096;

  KeyTokenIndex() = default;
  // Sums the tokens of every block of the stream once. Errors: those of `counter`.
  static Result<KeyTokenIndex> Build(const KeyStream& stream, const index::ChunkerIndex& index,
                                     const RangeTokenCounter& counter);

  // Tokens of one epoch, and of the whole stream.
  int64_t epoch_tokens() const { return epoch_tokens_; }
  int64_t total_tokens() const { return epoch_tokens_ * repeat_; }

  // Tokens before stream position p (0 <= p <= stream.total_size()). Errors: those of
  // `counter`.
  Result<int64_t> TokensBefore(const KeyStream& stream, const index::ChunkerIndex& index,
                               const RangeTokenCounter& counter, int64_t p) const;
  // The stream position of the sample holding token t (0 <= t < total_tokens()): the
  // smallest p with TokensBefore(p + 1) > t. Samples of 0 tokens never hold a token.
  // Errors: those of `counter`.
  Result<int64_t> PositionOfToken(const KeyStream& stream, const index::ChunkerIndex& index,
                                  const RangeTokenCounter& counter, int64_t t) const;

 private:
  // The checkpoints of `epoch`: cumulative tokens at positions j * kCheckpointSamples.
  const std::vector<int64_t>& Checkpoints(int64_t epoch) const {
    return checkpoints_[checkpoints_.size() == 1 ? 0 : static_cast<size_t>(epoch)];
  }

  int64_t epoch_size_ = 0;
  int64_t repeat_ = 1;
  int64_t epoch_tokens_ = 0;
  std::vector<std::vector<int64_t>> checkpoints_;  // one per epoch, or one for all
};

}  // namespace mixtera::chunk
