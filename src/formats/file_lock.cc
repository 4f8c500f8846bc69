#include "formats/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/strings.h"
#include "formats/file_util.h"

namespace mixtera::formats {

Result<FileLock> FileLock::Acquire(const std::string& path, std::chrono::milliseconds timeout) {
  internal::ScopedFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return internal::ErrnoStatus(errno, "open", path);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return internal::ErrnoStatus(errno, "flock", path);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable(
          StrCat(path, ": another process held the lock for more than ", timeout.count(), " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return FileLock(fd.Release());
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace mixtera::formats
