// Token counts files: the exact number of tokens of every record of one data file under one
// tokenizer (`mixtera count-tokens`, DESIGN.md §3.4), stored as prefix sums so that the
// tokens of any record range cost two loads. mmap-able; byte layout in docs/formats.md.
//
// Records are the file's physical records, numbered like the offsets file's (sample ids);
// records that are not samples (blank lines, skipped records) count 0 tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mixtera/result.h"

namespace mixtera::formats {

// Writes `counts` (one entry per record) to `path` (created or truncated).
// Errors: IOError naming the path.
Status WriteTokenCounts(const std::string& path, const std::vector<uint32_t>& counts);

// Reads a token counts file through mmap. Thread safety: const methods may be called
// concurrently.
class TokenCountsReader {
 public:
  // Errors: NotFound, IOError, Corruption (bad magic or version, a size that does not match
  // the record count, a total that is not the last prefix sum) naming the path.
  static Result<std::unique_ptr<TokenCountsReader>> Open(const std::string& path);
  ~TokenCountsReader();
  TokenCountsReader(const TokenCountsReader&) = delete;
  TokenCountsReader& operator=(const TokenCountsReader&) = delete;

  int64_t num_records() const { return num_records_; }
  int64_t total_tokens() const { return Prefix(num_records_); }
  // Tokens of records [begin, end). REQUIRES: 0 <= begin <= end <= num_records(). A
  // decreasing prefix sum (corruption) reads as 0 tokens; Validate() finds it.
  int64_t RangeTokens(int64_t begin, int64_t end) const {
    const uint64_t b = Prefix(begin), e = Prefix(end);
    return e >= b ? static_cast<int64_t>(e - b) : 0;
  }
  // Checks that the prefix sums never decrease (reads the whole file).
  // Errors: Corruption naming the path and the record.
  Status Validate() const;
  const std::string& path() const { return path_; }

 private:
  TokenCountsReader(std::string path, const char* base, size_t size, int64_t num_records);
  uint64_t Prefix(int64_t i) const;

  std::string path_;
  const char* base_;
  size_t size_;
  int64_t num_records_;
};

}  // namespace mixtera::formats
