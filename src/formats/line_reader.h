// LineReader: the lines of a (decompressed) data stream, for JSONL scanning and reading.
//
// Lines are split on '\n' only; the '\n' is not part of a line, a '\r' before it is. A
// final line without '\n' is a line; an empty stream has no lines; blank lines are lines
// (record i of a JSONL file is line i, DESIGN.md §3.1).
//
//   LineReader reader(std::move(stream));
//   LineReader::Line line;
//   while (true) {
//     MIXTERA_ASSIGN_OR_RETURN(bool more, reader.Next(&line));
//     if (!more) break;
//     Parse(line.bytes);  // at least LineReader::kPadding readable bytes follow line.bytes
//   }
//
// Lines are views into one reusable buffer, which grows only for a line longer than it.
// The buffer always holds kPadding bytes after its data, so every view is followed by at
// least kPadding readable bytes (of unspecified value), as simdjson's padded parsing needs.
//
// Thread safety: not thread-safe; each reader is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "formats/input_stream.h"
#include "mixtera/result.h"

namespace mixtera::formats {

class LineReader {
 public:
  struct Line {
    int64_t index = 0;       // 0-based line number in the stream
    int64_t offset = 0;      // stream offset of the line's first byte
    std::string_view bytes;  // without the '\n'; valid until the next call to Next()
  };

  // Readable bytes guaranteed after the end of every returned line (simdjson's
  // SIMDJSON_PADDING is 64).
  static constexpr size_t kPadding = 64;

  // Reads from `stream`, starting at its current position (offsets are stream offsets).
  // `buffer_bytes` is the initial buffer size: the longest line read without growing it
  // (default 8 MiB). Memory is touched only as far as it is used; reads are 256 KiB.
  explicit LineReader(std::unique_ptr<InputStream> stream, size_t buffer_bytes = 8 << 20);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Stores the next line in `*line` and returns true, or returns false at the end of the
  // stream. Errors: those of InputStream::Read (IOError, Corruption naming the path).
  Result<bool> Next(Line* line);

  // Lines returned so far.
  int64_t num_lines() const { return next_index_; }

 private:
  // Moves the unread bytes to the buffer's start, grows the buffer when it is full, and
  // reads more. Sets eof_ at the end of the stream.
  Status Refill();

  std::unique_ptr<InputStream> stream_;
  std::unique_ptr<char[]> buf_;  // capacity_ + kPadding bytes
  size_t capacity_;
  size_t begin_ = 0;    // first byte of the next line
  size_t scan_ = 0;     // [begin_, scan_) holds no '\n'
  size_t end_ = 0;      // end of valid data
  int64_t buf_offset_;  // stream offset of buf_[0]
  int64_t next_index_ = 0;
  bool eof_ = false;
};

}  // namespace mixtera::formats
