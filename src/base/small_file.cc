#include "base/small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace mixtera {

Result<std::string> ReadSmallFile(const std::string& path, std::string_view what,
                                  int64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer before the type check below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(StrCat(what, " '", path, "' does not exist"));
    return Status::IOError(StrCat("cannot read ", what, " '", path, "': ", std::strerror(err)));
  }
  struct stat st;
  Status status;
  std::string text;
  if (::fstat(fd, &st) != 0) {
    status = Status::IOError(StrCat("cannot read ", what, " '", path, "': ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    status = Status::InvalidArgument(
        StrCat(what, " '", path, "' is not a regular file (a folder, device or pipe)"));
  } else if (st.st_size > max_bytes) {
    status = Status::InvalidArgument(
        StrCat(what, " '", path, "' has ", st.st_size, " bytes; at most ", max_bytes, " are read"));
  } else {
    text.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        status =
            Status::IOError(StrCat("cannot read ", what, " '", path,
                                   "': ", n < 0 ? std::strerror(errno) : "it shrank while read"));
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return text;
}

}  // namespace mixtera
