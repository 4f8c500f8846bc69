// An exclusive advisory lock (flock) on a lock file, for short critical sections between
// processes, e.g. creating a Mixtera directory's store on first use.
#pragma once

#include <chrono>
#include <string>

#include "mixtera/result.h"

namespace mixtera::formats {

// Holds an exclusive flock on a file until destroyed. Move-only. Locks held by one process
// exclude other processes (and other FileLock objects of the same process: each opens the
// file anew).
class FileLock {
 public:
  // Locks `path` (created with mode 0644 when missing), waiting up to `timeout` for another
  // holder; the wait sleeps in short steps, so it ends within ~10 ms of the timeout.
  // Errors: IOError naming `path` (open/flock failed); Unavailable when still held by another
  // after `timeout`.
  static Result<FileLock> Acquire(const std::string& path, std::chrono::milliseconds timeout);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();  // releases the lock

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace mixtera::formats
