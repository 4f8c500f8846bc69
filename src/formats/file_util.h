// Module-internal helpers of `formats`: an owned file descriptor, positioned reads and full
// writes that turn errno into a Status naming the path, and the little-endian fixed-width
// and varint encodings used by the offsets and seek-point files (docs/formats.md).
//
// Not part of the module's interface; only formats/*.cc include this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "mixtera/status.h"

namespace mixtera::formats::internal {

// Owns a POSIX file descriptor and closes it on destruction. Move-only.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.Release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Returns a Status for the failed operation `what` on `path` with `err` (an errno value):
// NotFound for ENOENT/ENOTDIR, IOError otherwise. The message names the path and strerror.
Status ErrnoStatus(int err, std::string_view what, const std::string& path);

// Opens `path` read-only. Errors: NotFound (missing), IOError (permission etc.).
Result<ScopedFd> OpenForRead(const std::string& path);
// Creates or truncates `path` for writing. Errors: IOError naming the path.
Result<ScopedFd> OpenForWrite(const std::string& path);

// Reads up to `n` bytes at `offset`, retrying short reads; returns fewer than `n` only at
// the end of the file. Errors: IOError naming the path.
Result<size_t> PReadFully(int fd, char* buf, size_t n, int64_t offset, const std::string& path);
// Writes all `n` bytes at the current file position. Errors: IOError naming the path.
Status WriteFully(int fd, const char* data, size_t n, const std::string& path);
// Closes `fd` (releasing it from the holder) and reports a failed close as IOError.
Status CloseFd(ScopedFd* fd, const std::string& path);

// Little-endian fixed-width encodings.
void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
uint32_t DecodeFixed32(const char* p);
uint64_t DecodeFixed64(const char* p);

// Unsigned LEB128 varints (7 bits per byte, low groups first; at most 10 bytes).
void PutVarint64(std::string* dst, uint64_t v);
// Decodes a varint from [p, limit) into `*v` and returns the byte after it, or nullptr when
// the varint is overlong, overflows 64 bits or runs past `limit`.
const char* GetVarint64(const char* p, const char* limit, uint64_t* v);

}  // namespace mixtera::formats::internal
