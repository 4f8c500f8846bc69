#include "formats/token_counts_file.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>

#include "base/macros.h"
#include "base/strings.h"
#include "formats/file_util.h"

namespace mixtera::formats {
namespace {

using internal::ScopedFd;

// Byte layout: docs/formats.md, "Token counts files".
constexpr char kMagic[8] = {'M', 'X', 'T', 'O', 'K', 'C', 'N', 'T'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8;  // magic, version, reserved, records
constexpr size_t kWriteBufferBytes = size_t{1} << 20;

}  // namespace

Status WriteTokenCounts(const std::string& path, const std::vector<uint32_t>& counts) {
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, internal::OpenForWrite(path));
  std::string buf(kMagic, sizeof(kMagic));
  internal::PutFixed32(&buf, kVersion);
  internal::PutFixed32(&buf, 0);
  internal::PutFixed64(&buf, counts.size());
  uint64_t sum = 0;
  internal::PutFixed64(&buf, sum);
  for (uint32_t c : counts) {
    sum += c;
    internal::PutFixed64(&buf, sum);
    if (buf.size() >= kWriteBufferBytes) {
      MIXTERA_RETURN_IF_ERROR(internal::WriteFully(fd.get(), buf.data(), buf.size(), path));
      buf.clear();
    }
  }
  MIXTERA_RETURN_IF_ERROR(internal::WriteFully(fd.get(), buf.data(), buf.size(), path));
  return internal::CloseFd(&fd, path);
}

TokenCountsReader::TokenCountsReader(std::string path, const char* base, size_t size,
                                     int64_t num_records)
    : path_(std::move(path)), base_(base), size_(size), num_records_(num_records) {}

TokenCountsReader::~TokenCountsReader() { ::munmap(const_cast<char*>(base_), size_); }

uint64_t TokenCountsReader::Prefix(int64_t i) const {
  return internal::DecodeFixed64(base_ + kHeaderBytes + static_cast<size_t>(i) * 8);
}

Result<std::unique_ptr<TokenCountsReader>> TokenCountsReader::Open(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, internal::OpenForRead(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return internal::ErrnoStatus(errno, "stat", path);
  const size_t size = static_cast<size_t>(st.st_size);
  auto corrupt = [&](std::string why) {
    return Status::Corruption(StrCat(path, ": corrupt token counts file: ", why));
  };
  if (size < kHeaderBytes + 8) return corrupt(StrCat("too short (", size, " bytes)"));
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (base == MAP_FAILED) return internal::ErrnoStatus(errno, "mmap", path);
  const char* p = static_cast<const char*>(base);
  const uint64_t records = internal::DecodeFixed64(p + 16);
  std::unique_ptr<TokenCountsReader> reader(
      new TokenCountsReader(path, p, size, static_cast<int64_t>(records)));
  if (std::memcmp(p, kMagic, sizeof(kMagic)) != 0) return corrupt("bad magic");
  if (internal::DecodeFixed32(p + 8) != kVersion) {
    return corrupt(StrCat("unknown version ", internal::DecodeFixed32(p + 8)));
  }
  if (records > (size - kHeaderBytes) / 8 || kHeaderBytes + (records + 1) * 8 != size) {
    return corrupt(StrCat(size, " bytes do not hold ", records, " records"));
  }
  if (reader->Prefix(0) != 0) return corrupt("the first prefix sum is not 0");
  return reader;
}

Status TokenCountsReader::Validate() const {
  for (int64_t i = 0; i < num_records_; ++i) {
    if (Prefix(i + 1) < Prefix(i)) {
      return Status::Corruption(
          StrCat(path_, ": corrupt token counts file: the prefix sum decreases at record ", i));
    }
  }
  return Status::OK();
}

}  // namespace mixtera::formats
