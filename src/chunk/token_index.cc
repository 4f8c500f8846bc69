#include "chunk/token_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "base/macros.h"

namespace mixtera::chunk {
namespace {

// Tokens of stream positions [begin, end).
Result<int64_t> SpanTokens(const KeyStream& stream, const index::ChunkerIndex& index,
                           const RangeTokenCounter& counter, int64_t begin, int64_t end,
                           std::vector<index::SampleRange>* scratch) {
  if (begin >= end) return 0;
  scratch->clear();
  stream.Extract(index, begin, end, scratch);
  return counter.Tokens(*scratch);
}

}  // namespace

uint64_t EstimatedTokenCounter::NextSerial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

Result<int64_t> EstimatedTokenCounter::BytesBefore(uint32_t file, int64_t i) const {
  const formats::OffsetsReader& f = *files_[file];
  if (i == 0) return 0;
  const int64_t n = f.num_records();
  // The extents of one block of kBlock records: the last one this thread decoded.
  constexpr int64_t kBlock = 128;
  struct BlockCache {
    uint64_t serial = 0;
    uint32_t file = 0;
    int64_t first = -1;
    std::vector<formats::RecordExtent> extents;
  };
  thread_local BlockCache cache;
  const int64_t record = i < n ? i : n - 1;
  const int64_t first = record / kBlock * kBlock;
  if (cache.serial != serial_ || cache.file != file || cache.first != first) {
    cache.extents.clear();
    Status read = f.GetRange(first, std::min(n, first + kBlock), &cache.extents);
    if (!read.ok()) {
      cache.first = -1;
      return read;
    }
    cache.serial = serial_;
    cache.file = file;
    cache.first = first;
  }
  const formats::RecordExtent& e = cache.extents[static_cast<size_t>(record - first)];
  return i < n ? e.offset : e.offset + e.length;
}

Result<int64_t> EstimatedTokenCounter::Tokens(const index::SampleRange& r) const {
  const formats::OffsetsReader* f = files_[r.file_index].get();
  auto floor_at = [](double x) { return static_cast<int64_t>(std::floor(x)); };
  if (f == nullptr || r.end > f->num_records()) {
    return floor_at(tokens_per_sample_ * r.end) - floor_at(tokens_per_sample_ * r.begin);
  }
  MIXTERA_ASSIGN_OR_RETURN(const int64_t end_bytes, BytesBefore(r.file_index, r.end));
  MIXTERA_ASSIGN_OR_RETURN(const int64_t begin_bytes, BytesBefore(r.file_index, r.begin));
  return floor_at(tokens_per_byte_ * static_cast<double>(end_bytes)) -
         floor_at(tokens_per_byte_ * static_cast<double>(begin_bytes));
}

Result<KeyTokenIndex> KeyTokenIndex::Build(const KeyStream& stream,
                                           const index::ChunkerIndex& index,
                                           const RangeTokenCounter& counter) {
  KeyTokenIndex out;
  out.epoch_size_ = stream.epoch_size();
  out.repeat_ = stream.repeat();
  // Without shuffling every epoch has the same order.
  const int64_t orders = stream.shuffle_block() > 0 ? stream.repeat() : 1;
  std::vector<index::SampleRange> scratch;
  for (int64_t e = 0; e < orders; ++e) {
    std::vector<int64_t> cum = {0};
    const int64_t base = e * out.epoch_size_;
    for (int64_t p = 0; p < out.epoch_size_; p += kCheckpointSamples) {
      const int64_t q = std::min(out.epoch_size_, p + kCheckpointSamples);
      MIXTERA_ASSIGN_OR_RETURN(const int64_t span,
                               SpanTokens(stream, index, counter, base + p, base + q, &scratch));
      cum.push_back(cum.back() + span);
    }
    if (e == 0) out.epoch_tokens_ = cum.back();
    MIXTERA_CHECK(cum.back() == out.epoch_tokens_);  // an epoch is a permutation
    out.checkpoints_.push_back(std::move(cum));
  }
  return out;
}

Result<int64_t> KeyTokenIndex::TokensBefore(const KeyStream& stream,
                                            const index::ChunkerIndex& index,
                                            const RangeTokenCounter& counter, int64_t p) const {
  if (epoch_size_ == 0) return 0;
  const int64_t epoch = std::min(p / epoch_size_, repeat_ - 1);
  const int64_t o = p - epoch * epoch_size_;
  const std::vector<int64_t>& cum = Checkpoints(epoch);
  const int64_t j = o / kCheckpointSamples;
  std::vector<index::SampleRange> scratch;
  const int64_t base = epoch * epoch_size_;
  MIXTERA_ASSIGN_OR_RETURN(
      const int64_t span,
      SpanTokens(stream, index, counter, base + j * kCheckpointSamples, base + o, &scratch));
  return epoch * epoch_tokens_ + cum[static_cast<size_t>(j)] + span;
}

Result<int64_t> KeyTokenIndex::PositionOfToken(const KeyStream& stream,
                                               const index::ChunkerIndex& index,
                                               const RangeTokenCounter& counter, int64_t t) const {
  MIXTERA_CHECK(t >= 0 && t < total_tokens());
  const int64_t epoch = t / epoch_tokens_;
  const int64_t u = t - epoch * epoch_tokens_;
  const std::vector<int64_t>& cum = Checkpoints(epoch);
  // The last block starting at or before token u: cum[j] <= u < cum[j + 1].
  const size_t j =
      static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin()) - 1;
  const int64_t base = epoch * epoch_size_;
  const int64_t block_begin = static_cast<int64_t>(j) * kCheckpointSamples;
  // Smallest o in [block_begin, block_end) with tokens before o + 1 > u. `before_lo` is the
  // tokens before position lo, so each step sums only [lo, mid + 1): about one block in all.
  int64_t lo = block_begin, hi = std::min(epoch_size_, block_begin + kCheckpointSamples) - 1;
  int64_t before_lo = cum[j];
  std::vector<index::SampleRange> scratch;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    MIXTERA_ASSIGN_OR_RETURN(const int64_t span, SpanTokens(stream, index, counter, base + lo,
                                                            base + mid + 1, &scratch));
    if (before_lo + span > u) {
      hi = mid;
    } else {
      before_lo += span;
      lo = mid + 1;
    }
  }
  return base + lo;
}

}  // namespace mixtera::chunk
