// Offsets files: every record's byte offset and length in one data file (in the
// decompressed stream for compressed files), mmap-able and delta-coded
// (DESIGN.md §3.1; byte layout in docs/formats.md).
//
// Records are the file's physical records in order: JSONL lines (blank and skipped ones
// included, so record i is line i), tar samples (span from the first member's header to
// the end of the last member's data). Offsets ascend and records do not overlap.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mixtera/result.h"

namespace mixtera::formats {

struct RecordExtent {
  int64_t offset = 0;
  int64_t length = 0;
  bool operator==(const RecordExtent& o) const { return offset == o.offset && length == o.length; }
};

// Writes an offsets file sequentially. Memory use is O(records / 128).
// Not thread-safe.
class OffsetsWriter {
 public:
  // Creates (truncates) `path`. Errors: IOError naming the path.
  static Result<std::unique_ptr<OffsetsWriter>> Create(const std::string& path);
  virtual ~OffsetsWriter() = default;
  // REQUIRES: offset >= previous offset + previous length; length >= 0.
  virtual Status Add(int64_t offset, int64_t length) = 0;
  // Writes the directory and footer and closes the file. Errors: IOError.
  virtual Status Finish() = 0;
  virtual int64_t num_records() const = 0;
};

// Reads an offsets file through mmap. Thread safety: const methods may be called
// concurrently.
class OffsetsReader {
 public:
  // Errors: NotFound, IOError, Corruption (bad magic, version or sizes) naming the path.
  static Result<std::unique_ptr<OffsetsReader>> Open(const std::string& path);
  virtual ~OffsetsReader() = default;
  virtual int64_t num_records() const = 0;
  // Errors: OutOfRange when record >= num_records().
  virtual Result<RecordExtent> Get(int64_t record) const = 0;
  // Appends the extents of records [begin, end) to `out`. Errors: OutOfRange.
  virtual Status GetRange(int64_t begin, int64_t end, std::vector<RecordExtent>* out) const = 0;
};

}  // namespace mixtera::formats
