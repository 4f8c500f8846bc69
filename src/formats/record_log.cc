#include "formats/record_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <limits>

#include "base/macros.h"
#include "base/strings.h"
#include "formats/file_util.h"

namespace mixtera::formats {
namespace {

using internal::DecodeFixed32;
using internal::ErrnoStatus;
using internal::PutFixed32;

uint32_t Crc(const char* data, size_t n) {
  return static_cast<uint32_t>(
      ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data), static_cast<uInt>(n)));
}

// Parses the records of `data`, the log's bytes from offset `base` on.
Result<RecordLogContents> ParseRecords(const std::string& data, const std::string& path,
                                       int64_t base = 0) {
  RecordLogContents out;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < kRecordHeaderBytes) {
      out.torn_tail = true;
      break;
    }
    const char* header = data.data() + pos;
    if (Crc(header, 8) != DecodeFixed32(header + 8)) {
      return Status::Corruption(StrCat(path, ": the record header at offset ",
                                       base + static_cast<int64_t>(pos), " fails its checksum"));
    }
    const uint32_t length = DecodeFixed32(header);
    if (data.size() - pos - kRecordHeaderBytes < length) {
      out.torn_tail = true;
      break;
    }
    const char* payload = header + kRecordHeaderBytes;
    if (Crc(payload, length) != DecodeFixed32(header + 4)) {
      return Status::Corruption(StrCat(path, ": the record at offset ",
                                       base + static_cast<int64_t>(pos), " (", length,
                                       " bytes) fails its checksum"));
    }
    out.records.emplace_back(payload, length);
    pos += kRecordHeaderBytes + length;
  }
  out.valid_bytes = base + static_cast<int64_t>(pos);
  return out;
}

Result<std::string> ReadWhole(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "stat", path);
  std::string data(static_cast<size_t>(st.st_size), '\0');
  MIXTERA_ASSIGN_OR_RETURN(size_t got, internal::PReadFully(fd, data.data(), data.size(), 0, path));
  data.resize(got);
  return data;
}

}  // namespace

Result<RecordLogContents> ReadRecordLog(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(internal::ScopedFd fd, internal::OpenForRead(path));
  MIXTERA_ASSIGN_OR_RETURN(std::string data, ReadWhole(fd.get(), path));
  return ParseRecords(data, path);
}

Result<RecordLogContents> ReadRecordLogFrom(const std::string& path, int64_t offset) {
  MIXTERA_ASSIGN_OR_RETURN(internal::ScopedFd fd, internal::OpenForRead(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (offset < 0 || offset > st.st_size) {
    return Status::InvalidArgument(
        StrCat(path, ": offset ", offset, " is outside the log (", st.st_size, " bytes)"));
  }
  std::string data(static_cast<size_t>(st.st_size - offset), '\0');
  MIXTERA_ASSIGN_OR_RETURN(size_t got,
                           internal::PReadFully(fd.get(), data.data(), data.size(), offset, path));
  data.resize(got);
  return ParseRecords(data, path, offset);
}

RecordLogWriter::RecordLogWriter(std::string path, int fd, int lock_fd, int64_t size,
                                 std::vector<std::string> existing)
    : path_(std::move(path)),
      fd_(fd),
      lock_fd_(lock_fd),
      size_(size),
      existing_(std::move(existing)) {}

RecordLogWriter::~RecordLogWriter() {
  ::close(fd_);
  ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<RecordLogWriter>> RecordLogWriter::Open(const std::string& path) {
  const std::string lock_path = path + ".lock";
  internal::ScopedFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.valid()) return ErrnoStatus(errno, "open", lock_path);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status::FailedPrecondition(
          StrCat(path, ": another writer holds the lock (", lock_path,
                 "); one process writes a job at a time, the others read it"));
    }
    return ErrnoStatus(errno, "flock", lock_path);
  }
  internal::ScopedFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus(errno, "open", path);
  MIXTERA_ASSIGN_OR_RETURN(std::string data, ReadWhole(fd.get(), path));
  MIXTERA_ASSIGN_OR_RETURN(RecordLogContents contents, ParseRecords(data, path));
  if (contents.torn_tail) {
    // A crash while appending: cut the incomplete record off before appending after it.
    if (::ftruncate(fd.get(), contents.valid_bytes) != 0) {
      return ErrnoStatus(errno, "truncate", path);
    }
    if (::fdatasync(fd.get()) != 0) return ErrnoStatus(errno, "fdatasync", path);
  }
  if (::lseek(fd.get(), contents.valid_bytes, SEEK_SET) < 0)
    return ErrnoStatus(errno, "seek", path);
  return std::unique_ptr<RecordLogWriter>(new RecordLogWriter(
      path, fd.Release(), lock.Release(), contents.valid_bytes, std::move(contents.records)));
}

Status RecordLogWriter::Append(std::string_view payload) {
  if (payload.size() >= std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument(
        StrCat(path_, ": a record of ", payload.size(), " bytes is too large (< 4 GiB)"));
  }
  std::string frame;
  frame.reserve(kRecordHeaderBytes + payload.size());
  PutFixed32(&frame, static_cast<uint32_t>(payload.size()));
  PutFixed32(&frame, Crc(payload.data(), payload.size()));
  PutFixed32(&frame, Crc(frame.data(), 8));
  frame.append(payload);
  MIXTERA_RETURN_IF_ERROR(internal::WriteFully(fd_, frame.data(), frame.size(), path_));
  size_ += static_cast<int64_t>(frame.size());
  return Status::OK();
}

Status RecordLogWriter::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync", path_);
  return Status::OK();
}

}  // namespace mixtera::formats
