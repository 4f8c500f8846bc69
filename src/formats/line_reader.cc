#include "formats/line_reader.h"

#include <algorithm>
#include <cstring>

#include "base/macros.h"

namespace mixtera::formats {
namespace {

// Bytes requested per Read. Reads much larger than the CPU's L2 cache make the line scan
// and the caller's parsing read the data back from memory: on a 2-core EPYC VM a 200 MB
// JSONL file scanned at 2.6 GB/s with 256 KiB reads and at 0.95 GB/s with 8 MiB reads.
// The buffer itself stays large, so lines up to its size need no growth.
constexpr size_t kReadBytes = size_t{256} << 10;

}  // namespace

LineReader::LineReader(std::unique_ptr<InputStream> stream, size_t buffer_bytes)
    : stream_(std::move(stream)),
      buf_(new char[std::max<size_t>(buffer_bytes, 1) + kPadding]),
      capacity_(std::max<size_t>(buffer_bytes, 1)),
      buf_offset_(stream_->position()) {
  // Only the padding after the valid bytes is ever read beyond them; keep it initialized.
  std::memset(buf_.get(), 0, kPadding);
}

LineReader::~LineReader() = default;

Result<bool> LineReader::Next(Line* line) {
  while (true) {
    if (scan_ < end_) {
      const void* nl = std::memchr(buf_.get() + scan_, '\n', end_ - scan_);
      if (nl != nullptr) {
        const size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buf_.get());
        line->index = next_index_++;
        line->offset = buf_offset_ + static_cast<int64_t>(begin_);
        line->bytes = std::string_view(buf_.get() + begin_, pos - begin_);
        begin_ = scan_ = pos + 1;
        return true;
      }
      scan_ = end_;
    }
    if (eof_) {
      if (begin_ == end_) return false;
      line->index = next_index_++;
      line->offset = buf_offset_ + static_cast<int64_t>(begin_);
      line->bytes = std::string_view(buf_.get() + begin_, end_ - begin_);
      begin_ = scan_ = end_;
      return true;
    }
    MIXTERA_RETURN_IF_ERROR(Refill());
  }
}

Status LineReader::Refill() {
  if (begin_ > 0) {
    const size_t keep = end_ - begin_;
    std::memmove(buf_.get(), buf_.get() + begin_, keep);
    buf_offset_ += static_cast<int64_t>(begin_);
    scan_ -= begin_;
    end_ = keep;
    begin_ = 0;
  }
  if (end_ == capacity_) {  // one line fills the buffer: double it
    const size_t capacity = capacity_ * 2;
    std::unique_ptr<char[]> bigger(new char[capacity + kPadding]);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    capacity_ = capacity;
  }
  const size_t want = std::min(capacity_ - end_, kReadBytes);
  MIXTERA_ASSIGN_OR_RETURN(size_t got, stream_->Read(buf_.get() + end_, want));
  if (got == 0) eof_ = true;
  end_ += got;
  std::memset(buf_.get() + end_, 0, kPadding);
  return Status::OK();
}

}  // namespace mixtera::formats
