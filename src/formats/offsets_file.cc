#include "formats/offsets_file.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/macros.h"
#include "base/strings.h"
#include "formats/file_util.h"

namespace mixtera::formats {
namespace {

using internal::ScopedFd;

// Byte layout: docs/formats.md, "Offsets files".
constexpr char kHeaderMagic[8] = {'M', 'X', 'O', 'F', 'F', 'S', 'E', 'T'};
constexpr char kFooterMagic[8] = {'M', 'X', 'O', 'F', 'F', 'E', 'N', 'D'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 4 + 4;      // magic, version, reserved
constexpr size_t kDirectoryEntryBytes = 8 + 8;  // base offset, payload position
constexpr size_t kFooterBytes =
    8 + 8 + 8 + 4 + 4 + 8;  // records, blocks, dir pos, crc, version, magic
// Records per block: Get() decodes at most this many varint pairs (about 0.3 us), and the
// directory costs 16 bytes per block, 1/8 byte per record.
constexpr int64_t kBlockRecords = 128;
// The writer flushes its payload buffer at this size. The buffer is allocated once at that
// size (plus room for the last record) and reused: growing it by doubling, or a buffer of
// a MiB per file, touches fresh pages, which cost more than the extra write calls.
constexpr size_t kWriteBufferBytes = size_t{64} << 10;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

class OffsetsWriterImpl final : public OffsetsWriter {
 public:
  OffsetsWriterImpl(ScopedFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {
    buf_.reserve(kWriteBufferBytes + 32);  // a record adds at most two 10-byte varints
    buf_.assign(kHeaderMagic, sizeof(kHeaderMagic));
    internal::PutFixed32(&buf_, kVersion);
    internal::PutFixed32(&buf_, 0);
  }

  Status Add(int64_t offset, int64_t length) override {
    MIXTERA_RETURN_IF_ERROR(status_);
    if (finished_) return Status::FailedPrecondition(StrCat(path_, ": Add after Finish"));
    if (length < 0 || offset < prev_end_ || length > kInt64Max - offset) {
      return Status::InvalidArgument(StrCat(path_, ": record ", num_records_, " (offset ", offset,
                                            ", length ", length,
                                            ") overlaps the previous one or is negative"));
    }
    if (num_records_ % kBlockRecords == 0) {
      internal::PutFixed64(&directory_, static_cast<uint64_t>(prev_end_));
      internal::PutFixed64(&directory_, static_cast<uint64_t>(flushed_ + buf_.size()));
    }
    internal::PutVarint64(&buf_, static_cast<uint64_t>(offset - prev_end_));
    internal::PutVarint64(&buf_, static_cast<uint64_t>(length));
    prev_end_ = offset + length;
    ++num_records_;
    if (buf_.size() >= kWriteBufferBytes) return Flush();
    return Status::OK();
  }

  Status Finish() override {
    MIXTERA_RETURN_IF_ERROR(status_);
    if (finished_) return Status::FailedPrecondition(StrCat(path_, ": Finish called twice"));
    finished_ = true;
    const uint64_t directory_position = flushed_ + buf_.size();
    const uint64_t num_blocks = directory_.size() / kDirectoryEntryBytes;
    buf_.append(directory_);
    internal::PutFixed64(&buf_, static_cast<uint64_t>(num_records_));
    internal::PutFixed64(&buf_, num_blocks);
    internal::PutFixed64(&buf_, directory_position);
    internal::PutFixed32(
        &buf_, static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef*>(directory_.data()),
                                             directory_.size())));
    internal::PutFixed32(&buf_, kVersion);
    buf_.append(kFooterMagic, sizeof(kFooterMagic));
    MIXTERA_RETURN_IF_ERROR(Flush());
    status_ = internal::CloseFd(&fd_, path_);
    return status_;
  }

  int64_t num_records() const override { return num_records_; }

 private:
  Status Flush() {
    status_ = internal::WriteFully(fd_.get(), buf_.data(), buf_.size(), path_);
    flushed_ += buf_.size();
    buf_.clear();
    return status_;
  }

  ScopedFd fd_;
  std::string path_;
  std::string buf_;        // bytes not yet written
  uint64_t flushed_ = 0;   // bytes written so far
  std::string directory_;  // encoded directory entries
  int64_t num_records_ = 0;
  int64_t prev_end_ = 0;
  bool finished_ = false;
  Status status_;  // sticky write error
};

class OffsetsReaderImpl final : public OffsetsReader {
 public:
  OffsetsReaderImpl(std::string path, const char* base, size_t size)
      : path_(std::move(path)), base_(base), size_(size) {}
  ~OffsetsReaderImpl() override {
    if (base_ != nullptr) ::munmap(const_cast<char*>(base_), size_);
  }

  // Checks the header, footer and directory.
  Status Validate() {
    if (size_ < kHeaderBytes + kFooterBytes)
      return Corrupt(StrCat("too short (", size_, " bytes)"));
    if (std::memcmp(base_, kHeaderMagic, sizeof(kHeaderMagic)) != 0) return Corrupt("bad magic");
    const char* footer = base_ + size_ - kFooterBytes;
    if (std::memcmp(footer + 32, kFooterMagic, sizeof(kFooterMagic)) != 0) {
      return Corrupt("bad footer magic (truncated file?)");
    }
    const uint32_t version = internal::DecodeFixed32(base_ + 8);
    if (version != kVersion || internal::DecodeFixed32(footer + 28) != kVersion) {
      return Corrupt(StrCat("unsupported version ", version, " (expected ", kVersion, ")"));
    }
    const uint64_t num_records = internal::DecodeFixed64(footer);
    const uint64_t num_blocks = internal::DecodeFixed64(footer + 8);
    const uint64_t directory_position = internal::DecodeFixed64(footer + 16);
    const uint64_t directory_end = size_ - kFooterBytes;
    if (num_records > static_cast<uint64_t>(kInt64Max) - kBlockRecords ||
        num_blocks != (num_records + kBlockRecords - 1) / kBlockRecords ||
        directory_position < kHeaderBytes || directory_position > directory_end ||
        (directory_end - directory_position) / kDirectoryEntryBytes != num_blocks ||
        (directory_end - directory_position) % kDirectoryEntryBytes != 0) {
      return Corrupt(StrCat("sizes do not match: ", num_records, " records, ", num_blocks,
                            " blocks, directory at ", directory_position, ", file size ", size_));
    }
    num_records_ = static_cast<int64_t>(num_records);
    num_blocks_ = static_cast<int64_t>(num_blocks);
    directory_ = base_ + directory_position;
    directory_position_ = directory_position;
    const uint32_t crc = static_cast<uint32_t>(crc32_z(
        0L, reinterpret_cast<const Bytef*>(directory_), directory_end - directory_position));
    if (crc != internal::DecodeFixed32(footer + 24)) return Corrupt("directory checksum mismatch");
    uint64_t prev_position = kHeaderBytes;
    uint64_t prev_base = 0;
    for (int64_t b = 0; b < num_blocks_; ++b) {
      const uint64_t block_base = BlockBase(b);
      const uint64_t position = BlockPosition(b);
      if (position < prev_position || position > directory_position || block_base < prev_base ||
          block_base > static_cast<uint64_t>(kInt64Max)) {
        return Corrupt(StrCat("bad directory entry for block ", b));
      }
      prev_position = position;
      prev_base = block_base;
    }
    // The last block must hold exactly the remaining records and end at the directory.
    if (num_blocks_ > 0) {
      const char* end = nullptr;
      const int64_t b = num_blocks_ - 1;
      MIXTERA_RETURN_IF_ERROR(DecodeBlock(
          b, num_records_, num_records_, [](const RecordExtent&) {}, &end));
      if (end != base_ + directory_position_) {
        return Corrupt("the record count does not match the last block");
      }
    }
    return Status::OK();
  }

  int64_t num_records() const override { return num_records_; }

  Result<RecordExtent> Get(int64_t record) const override {
    if (record < 0 || record >= num_records_) return OutOfRangeError(record, record + 1);
    RecordExtent extent;
    MIXTERA_RETURN_IF_ERROR(DecodeBlock(record / kBlockRecords, record, record + 1,
                                        [&](const RecordExtent& e) { extent = e; }));
    return extent;
  }

  Status GetRange(int64_t begin, int64_t end, std::vector<RecordExtent>* out) const override {
    if (begin < 0 || begin > end || end > num_records_) return OutOfRangeError(begin, end);
    out->reserve(out->size() + static_cast<size_t>(end - begin));
    for (int64_t b = begin / kBlockRecords; b * kBlockRecords < end; ++b) {
      MIXTERA_RETURN_IF_ERROR(
          DecodeBlock(b, begin, end, [&](const RecordExtent& e) { out->push_back(e); }));
    }
    return Status::OK();
  }

 private:
  uint64_t BlockBase(int64_t b) const {
    return internal::DecodeFixed64(directory_ + b * kDirectoryEntryBytes);
  }
  uint64_t BlockPosition(int64_t b) const {
    return internal::DecodeFixed64(directory_ + b * kDirectoryEntryBytes + 8);
  }

  // Decodes block `b` and calls `emit` for its records in [begin, end). With `decoded_end`
  // set, decodes the whole block and stores where its encoding ends.
  template <typename Emit>
  Status DecodeBlock(int64_t b, int64_t begin, int64_t end, Emit emit,
                     const char** decoded_end = nullptr) const {
    const char* p = base_ + BlockPosition(b);
    const char* limit = base_ + (b + 1 < num_blocks_ ? BlockPosition(b + 1) : directory_position_);
    int64_t prev_end = static_cast<int64_t>(BlockBase(b));
    const int64_t first = b * kBlockRecords;
    const int64_t block_end = std::min(first + kBlockRecords, num_records_);
    const int64_t last = decoded_end != nullptr ? block_end : std::min(block_end, end);
    for (int64_t i = first; i < last; ++i) {
      uint64_t gap = 0;
      uint64_t length = 0;
      p = internal::GetVarint64(p, limit, &gap);
      if (p != nullptr) p = internal::GetVarint64(p, limit, &length);
      if (p == nullptr) return Corrupt(StrCat("record ", i, " cannot be decoded"));
      if (gap > static_cast<uint64_t>(kInt64Max - prev_end) ||
          length > static_cast<uint64_t>(kInt64Max - prev_end - static_cast<int64_t>(gap))) {
        return Corrupt(StrCat("record ", i, " overflows 64-bit offsets"));
      }
      RecordExtent e{prev_end + static_cast<int64_t>(gap), static_cast<int64_t>(length)};
      prev_end = e.offset + e.length;
      if (i >= begin && i < end) emit(e);
    }
    if (decoded_end != nullptr) *decoded_end = p;
    return Status::OK();
  }

  Status Corrupt(std::string_view why) const {
    return Status::Corruption(StrCat(path_, ": corrupt offsets file: ", why));
  }
  Status OutOfRangeError(int64_t begin, int64_t end) const {
    return Status::OutOfRange(StrCat(path_, ": records [", begin, ", ", end,
                                     ") are out of range; the file has ", num_records_));
  }

  std::string path_;
  const char* base_;
  size_t size_;
  int64_t num_records_ = 0;
  int64_t num_blocks_ = 0;
  const char* directory_ = nullptr;
  uint64_t directory_position_ = 0;
};

}  // namespace

Result<std::unique_ptr<OffsetsWriter>> OffsetsWriter::Create(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, internal::OpenForWrite(path));
  return std::unique_ptr<OffsetsWriter>(std::make_unique<OffsetsWriterImpl>(std::move(fd), path));
}

Result<std::unique_ptr<OffsetsReader>> OffsetsReader::Open(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, internal::OpenForRead(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return internal::ErrnoStatus(errno, "stat", path);
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < kHeaderBytes + kFooterBytes) {
    return Status::Corruption(StrCat(path, ": corrupt offsets file: too short (", size, " bytes)"));
  }
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (base == MAP_FAILED) return internal::ErrnoStatus(errno, "mmap", path);
  auto reader = std::make_unique<OffsetsReaderImpl>(path, static_cast<const char*>(base), size);
  MIXTERA_RETURN_IF_ERROR(reader->Validate());
  return std::unique_ptr<OffsetsReader>(std::move(reader));
}

}  // namespace mixtera::formats
