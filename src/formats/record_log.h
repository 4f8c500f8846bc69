// An append-only log of records (DESIGN.md §3.8: a live job's state), each record framed as
//
//   u32 payload length | u32 crc32(payload) | u32 crc32(the 8 bytes before) | payload
//
// (little-endian; zlib's CRC-32). The header carries its own checksum, so a changed length
// is detected as corruption instead of being taken for a record cut short. Reading:
//   - a record that runs past the end of the file (header or payload incomplete) is a torn
//     write — a crash while appending — and ends the log; it is not returned;
//   - a complete header or payload whose checksum fails is a Corruption error naming the file
//     and the record's offset.
// One writer at a time: RecordLogWriter holds an exclusive flock(2) on "<path>.lock" for its
// lifetime; the kernel drops it when the writer's process exits or dies, so a later process
// takes over. Readers never lock (a reader may see a record the writer is appending as torn).
//
//   MIXTERA_ASSIGN_OR_RETURN(auto log, RecordLogWriter::Open(dir + "/state.log"));
//   MIXTERA_RETURN_IF_ERROR(log->Append(payload));
//   MIXTERA_RETURN_IF_ERROR(log->Sync());  // a commit point: durable from here on
//   MIXTERA_ASSIGN_OR_RETURN(RecordLogContents contents, ReadRecordLog(dir + "/state.log"));
//
// Thread safety: a writer is used by one thread at a time; ReadRecordLog may run anywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mixtera/result.h"

namespace mixtera::formats {

inline constexpr size_t kRecordHeaderBytes = 12;

struct RecordLogContents {
  std::vector<std::string> records;  // the complete records, in order
  int64_t valid_bytes = 0;           // where the complete records end
  bool torn_tail = false;            // bytes of an incomplete record follow valid_bytes
};

// Reads every complete record of `path`. Errors: NotFound (no such file), Corruption (a
// checksum fails; names the path and the offset), IOError.
Result<RecordLogContents> ReadRecordLog(const std::string& path);
// The complete records from byte `offset` on, which must be where a record starts (a
// previous read's valid_bytes); valid_bytes counts from the file's start. Errors: as
// ReadRecordLog; InvalidArgument for an offset past the end.
Result<RecordLogContents> ReadRecordLogFrom(const std::string& path, int64_t offset);

class RecordLogWriter {
 public:
  // Opens `path` for appending (creating it), after taking the writer lock. A torn last record
  // is cut off (the log then ends with its last complete record). Errors: FailedPrecondition
  // when another writer — in this or another live process — holds the lock; Corruption as
  // ReadRecordLog; IOError.
  static Result<std::unique_ptr<RecordLogWriter>> Open(const std::string& path);
  ~RecordLogWriter();
  RecordLogWriter(const RecordLogWriter&) = delete;
  RecordLogWriter& operator=(const RecordLogWriter&) = delete;

  // The records already in the log when it was opened.
  const std::vector<std::string>& existing_records() const { return existing_; }

  // Appends one record (one write(2) of header and payload). Durable after Sync().
  // Errors: InvalidArgument for a payload of 4 GiB or more; IOError (the log then ends with
  // its last complete record or a torn one, which the next Open cuts off).
  Status Append(std::string_view payload);
  // fdatasync: every record appended so far survives a crash of the machine.
  Status Sync();
  // The log's size in bytes.
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  RecordLogWriter(std::string path, int fd, int lock_fd, int64_t size,
                  std::vector<std::string> existing);

  std::string path_;
  int fd_;
  int lock_fd_;
  int64_t size_;
  std::vector<std::string> existing_;
};

}  // namespace mixtera::formats
