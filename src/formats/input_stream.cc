#include "formats/input_stream.h"

#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "base/macros.h"
#include "base/strings.h"
#include "formats/file_util.h"

namespace mixtera::formats {
namespace {

using internal::ScopedFd;
using model::Compression;

// Compressed input is read in 1 MiB pieces: large enough that system calls are noise next
// to decompression, small enough to stay in the CPU caches.
constexpr size_t kInputBufferBytes = size_t{1} << 20;
// Scratch buffer for the decompressed bytes OpenInputStreamAt discards.
constexpr size_t kSkipBufferBytes = size_t{256} << 10;
// Deflate's largest back-reference distance: the dictionary a checkpoint has to carry.
constexpr size_t kDeflateWindowBytes = 32768;
// inflateInit2 window-bits arguments: a gzip member (header + trailer) or raw deflate.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kRawDeflateWindowBits = -15;

// zlib and bzip2 count in unsigned int.
unsigned ClampToUInt(size_t n) { return static_cast<unsigned>(std::min<size_t>(n, UINT_MAX)); }

// Plain files: every Read is one pread() straight into the caller's buffer.
class PlainStream final : public InputStream {
 public:
  PlainStream(ScopedFd fd, std::string path, int64_t position)
      : fd_(std::move(fd)), path_(std::move(path)), position_(position) {}

  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::pread(fd_.get(), buf, n, static_cast<off_t>(position_));
      if (r >= 0) {
        position_ += r;
        return static_cast<size_t>(r);
      }
      if (errno != EINTR) {
        return internal::ErrnoStatus(errno, StrCat("read at offset ", position_), path_);
      }
    }
  }
  int64_t position() const override { return position_; }

 private:
  ScopedFd fd_;
  std::string path_;
  int64_t position_;
};

// Common input handling of the decompressing streams: a 1 MiB buffer of compressed bytes
// read with pread() from `file_offset`, and the bookkeeping for messages and seek points.
class CompressedStream : public InputStream {
 public:
  Result<size_t> Read(char* buf, size_t n) final {
    if (n == 0 || ended_) return size_t{0};
    MIXTERA_ASSIGN_OR_RETURN(size_t got, Decode(buf, n));
    position_ += static_cast<int64_t>(got);
    return got;
  }
  int64_t position() const final { return position_; }

 protected:
  CompressedStream(ScopedFd fd, std::string path, int64_t file_offset, int64_t position)
      : fd_(std::move(fd)),
        path_(std::move(path)),
        buffer_(new uint8_t[kInputBufferBytes]),
        file_offset_(file_offset),
        buffer_offset_(file_offset),
        next_in_(buffer_.get()),
        position_(position) {}

  // Decodes up to `n` bytes into `buf`; returns fewer only at the end (then sets ended_).
  virtual Result<size_t> Decode(char* buf, size_t n) = 0;

  // Refills the buffer when all input was consumed. Returns false at the end of the file.
  Result<bool> EnsureInput() {
    if (avail_in_ > 0) return true;
    MIXTERA_ASSIGN_OR_RETURN(size_t got,
                             internal::PReadFully(fd_.get(), reinterpret_cast<char*>(buffer_.get()),
                                                  kInputBufferBytes, file_offset_, path_));
    buffer_offset_ = file_offset_;
    file_offset_ += static_cast<int64_t>(got);
    next_in_ = buffer_.get();
    avail_in_ = got;
    return got > 0;
  }
  void Consume(size_t n) {
    next_in_ += n;
    avail_in_ -= n;
  }
  // File offset of the next compressed byte the decoder has not consumed.
  int64_t input_offset() const { return buffer_offset_ + (next_in_ - buffer_.get()); }

  Status Corrupt(std::string_view format, std::string_view detail) const {
    return Status::Corruption(StrCat(path_, ": corrupt ", format, " data at compressed offset ",
                                     input_offset(), " (decompressed offset ", position_,
                                     "+): ", detail));
  }
  Status Truncated(std::string_view format) const {
    return Status::Corruption(StrCat(path_, ": truncated ", format,
                                     " data: the file ends at compressed offset ", input_offset(),
                                     " in the middle of a compressed stream"));
  }

  const std::string& path() const { return path_; }

  ScopedFd fd_;
  std::string path_;
  std::unique_ptr<uint8_t[]> buffer_;
  int64_t file_offset_;    // where the next refill reads
  int64_t buffer_offset_;  // file offset of buffer_[0]
  const uint8_t* next_in_;
  size_t avail_in_ = 0;
  int64_t position_;  // decompressed bytes delivered (plus the start offset)
  bool ended_ = false;
};

// gzip, one member after another. With `seek_points` set, inflate runs with Z_BLOCK so it
// stops at every deflate block boundary, where a checkpoint may be taken (zran's method):
// the compressed offset, the bits of the previous byte that belong to the next block, and
// the last 32 KiB of output. A stream started from a checkpoint decodes raw deflate until
// the member's end, skips its 8-byte trailer (CRC32 and ISIZE, which cannot be checked
// for a partial member) and reads any following members as gzip again.
class GzipStream final : public CompressedStream {
 public:
  GzipStream(ScopedFd fd, std::string path, int64_t file_offset, int64_t position,
             std::vector<SeekPoint>* seek_points, int64_t interval)
      : CompressedStream(std::move(fd), std::move(path), file_offset, position),
        seek_points_(seek_points),
        interval_(std::max<int64_t>(interval, 1)),
        last_point_(position) {}
  ~GzipStream() override {
    if (initialized_) inflateEnd(&strm_);
  }

  // Prepares decoding from the file's start (`start` null) or from a checkpoint.
  Status Init(const SeekPoint* start) {
    if (start == nullptr) {
      if (inflateInit2(&strm_, kGzipWindowBits) != Z_OK) return InflateInitError();
      initialized_ = true;
      return Status::OK();
    }
    if (inflateInit2(&strm_, kRawDeflateWindowBits) != Z_OK) return InflateInitError();
    initialized_ = true;
    raw_ = true;
    if (start->bits > 0) {
      MIXTERA_ASSIGN_OR_RETURN(bool more, EnsureInput());
      if (!more) return BadSeekPoint(*start, "it lies past the end of the file");
      int byte = *next_in_;
      Consume(1);
      if (inflatePrime(&strm_, start->bits, byte >> (8 - start->bits)) != Z_OK) {
        return BadSeekPoint(*start, "inflatePrime failed");
      }
    }
    if (inflateSetDictionary(&strm_, reinterpret_cast<const Bytef*>(start->window.data()),
                             static_cast<uInt>(start->window.size())) != Z_OK) {
      return BadSeekPoint(*start, "inflateSetDictionary failed");
    }
    return Status::OK();
  }

 private:
  Result<size_t> Decode(char* buf, size_t n) override {
    const int flush = seek_points_ != nullptr ? Z_BLOCK : Z_NO_FLUSH;
    size_t produced = 0;
    while (produced < n) {
      if (member_done_) {
        MIXTERA_ASSIGN_OR_RETURN(bool more, EnsureInput());
        if (!more) {
          ended_ = true;
          break;
        }
        // Another member follows (as `cat a.gz b.gz` or pigz make).
        if (inflateReset2(&strm_, kGzipWindowBits) != Z_OK) return Corrupt("gzip", "reset failed");
        raw_ = false;
        member_done_ = false;
      }
      MIXTERA_ASSIGN_OR_RETURN(bool more, EnsureInput());
      if (!more) return Truncated("gzip");
      const unsigned in_before = ClampToUInt(avail_in_);
      const unsigned out_before = ClampToUInt(n - produced);
      strm_.next_in = const_cast<Bytef*>(next_in_);
      strm_.avail_in = in_before;
      strm_.next_out = reinterpret_cast<Bytef*>(buf + produced);
      strm_.avail_out = out_before;
      const int ret = inflate(&strm_, flush);
      const size_t used = in_before - strm_.avail_in;
      const size_t made = out_before - strm_.avail_out;
      Consume(used);
      produced += made;
      if (ret == Z_STREAM_END) {
        member_done_ = true;
        if (raw_) MIXTERA_RETURN_IF_ERROR(SkipTrailer());
        continue;
      }
      if (ret == Z_OK || ret == Z_BUF_ERROR) {
        if (used == 0 && made == 0) return Corrupt("gzip", "inflate made no progress");
        if (seek_points_ != nullptr) MaybeCheckpoint(position_ + static_cast<int64_t>(produced));
        continue;
      }
      if (ret == Z_MEM_ERROR) return Status::Internal(StrCat(path(), ": inflate: out of memory"));
      return Corrupt("gzip", strm_.msg != nullptr ? strm_.msg : "inflate failed");
    }
    return produced;
  }

  // Takes a checkpoint at a block boundary (not inside the final block) once `interval_`
  // bytes were produced since the last one.
  void MaybeCheckpoint(int64_t decoded) {
    if ((strm_.data_type & 128) == 0 || (strm_.data_type & 64) != 0) return;
    if (decoded - last_point_ < interval_) return;
    SeekPoint point;
    point.compressed_offset = input_offset();
    point.decompressed_offset = decoded;
    point.bits = strm_.data_type & 7;
    point.window.resize(kDeflateWindowBytes);
    uInt len = 0;
    if (inflateGetDictionary(&strm_, reinterpret_cast<Bytef*>(point.window.data()), &len) != Z_OK) {
      return;  // cannot happen for an initialized stream; skipping a checkpoint is harmless
    }
    point.window.resize(len);
    seek_points_->push_back(std::move(point));
    last_point_ = decoded;
  }

  // Skips the 8-byte trailer after a member that was entered through a checkpoint.
  Status SkipTrailer() {
    size_t left = 8;
    while (left > 0) {
      MIXTERA_ASSIGN_OR_RETURN(bool more, EnsureInput());
      if (!more) return Truncated("gzip");
      size_t take = std::min(left, avail_in_);
      Consume(take);
      left -= take;
    }
    return Status::OK();
  }

  Status InflateInitError() const {
    return Status::Internal(StrCat(path(), ": inflateInit2 failed"));
  }
  Status BadSeekPoint(const SeekPoint& p, std::string_view why) const {
    return Status::Corruption(StrCat(path(), ": bad gzip seek point at compressed offset ",
                                     p.compressed_offset, ": ", why));
  }

  z_stream strm_{};
  bool initialized_ = false;
  bool raw_ = false;          // the current member was entered through a checkpoint
  bool member_done_ = false;  // a member ended; a new member or the end of the file follows
  std::vector<SeekPoint>* seek_points_;
  int64_t interval_;
  int64_t last_point_;  // decompressed offset of the last checkpoint (or of the start)
};

// zstd, frame after frame; with `seek_points` set, records every frame start.
class ZstdStream final : public CompressedStream {
 public:
  ZstdStream(ScopedFd fd, std::string path, int64_t file_offset, int64_t position,
             std::vector<SeekPoint>* seek_points)
      : CompressedStream(std::move(fd), std::move(path), file_offset, position),
        seek_points_(seek_points),
        last_point_(position) {}
  ~ZstdStream() override { ZSTD_freeDStream(dstream_); }

  Status Init() {
    dstream_ = ZSTD_createDStream();
    if (dstream_ == nullptr) return Status::Internal(StrCat(path(), ": ZSTD_createDStream failed"));
    size_t r = ZSTD_initDStream(dstream_);
    if (ZSTD_isError(r)) return Corrupt("zstd", ZSTD_getErrorName(r));
    return Status::OK();
  }

 private:
  Result<size_t> Decode(char* buf, size_t n) override {
    size_t produced = 0;
    while (produced < n) {
      MIXTERA_ASSIGN_OR_RETURN(bool more, EnsureInput());
      if (!more) {
        if (!at_frame_start_ || !saw_frame_) return Truncated("zstd");
        ended_ = true;
        break;
      }
      const int64_t decoded = position_ + static_cast<int64_t>(produced);
      if (at_frame_start_ && seek_points_ != nullptr && decoded > last_point_) {
        seek_points_->push_back(SeekPoint{input_offset(), decoded, 0, {}});
        last_point_ = decoded;
      }
      ZSTD_inBuffer in{next_in_, avail_in_, 0};
      ZSTD_outBuffer out{buf + produced, n - produced, 0};
      const size_t r = ZSTD_decompressStream(dstream_, &out, &in);
      if (ZSTD_isError(r)) return Corrupt("zstd", ZSTD_getErrorName(r));
      if (in.pos == 0 && out.pos == 0 && r != 0) {
        return Corrupt("zstd", "decoder made no progress");
      }
      Consume(in.pos);
      produced += out.pos;
      at_frame_start_ = r == 0;
      saw_frame_ = true;
    }
    return produced;
  }

  ZSTD_DStream* dstream_ = nullptr;
  bool at_frame_start_ = true;
  bool saw_frame_ = false;
  std::vector<SeekPoint>* seek_points_;
  int64_t last_point_;
};

// xz (.xz container), concatenated streams and stream padding included.
class XzStream final : public CompressedStream {
 public:
  XzStream(ScopedFd fd, std::string path)
      : CompressedStream(std::move(fd), std::move(path), 0, 0) {}
  ~XzStream() override { lzma_end(&strm_); }

  Status Init() {
    if (lzma_stream_decoder(&strm_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      return Status::Internal(StrCat(path(), ": lzma_stream_decoder failed"));
    }
    return Status::OK();
  }

 private:
  Result<size_t> Decode(char* buf, size_t n) override {
    size_t produced = 0;
    while (produced < n) {
      if (avail_in_ == 0 && !input_eof_) {
        MIXTERA_ASSIGN_OR_RETURN(bool more, EnsureInput());
        input_eof_ = !more;
      }
      strm_.next_in = next_in_;
      strm_.avail_in = avail_in_;
      strm_.next_out = reinterpret_cast<uint8_t*>(buf + produced);
      strm_.avail_out = n - produced;
      const lzma_ret ret = lzma_code(&strm_, input_eof_ ? LZMA_FINISH : LZMA_RUN);
      Consume(avail_in_ - strm_.avail_in);
      produced = n - strm_.avail_out;
      if (ret == LZMA_OK) continue;
      if (ret == LZMA_STREAM_END) {
        ended_ = true;
        break;
      }
      if (ret == LZMA_BUF_ERROR && input_eof_) return Truncated("xz");
      if (ret == LZMA_MEM_ERROR) return Status::Internal(StrCat(path(), ": xz: out of memory"));
      return Corrupt("xz", LzmaMessage(ret));
    }
    return produced;
  }

  static std::string_view LzmaMessage(lzma_ret ret) {
    switch (ret) {
      case LZMA_FORMAT_ERROR:
        return "not in the .xz format";
      case LZMA_OPTIONS_ERROR:
        return "unsupported compression options";
      case LZMA_DATA_ERROR:
        return "compressed data is corrupt";
      case LZMA_BUF_ERROR:
        return "decoder made no progress";
      case LZMA_MEMLIMIT_ERROR:
        return "memory limit reached";
      default:
        return "lzma_code failed";
    }
  }

  lzma_stream strm_ = LZMA_STREAM_INIT;
  bool input_eof_ = false;
};

// bzip2, stream after stream (as pbzip2 or `cat a.bz2 b.bz2` make).
class Bzip2Stream final : public CompressedStream {
 public:
  Bzip2Stream(ScopedFd fd, std::string path)
      : CompressedStream(std::move(fd), std::move(path), 0, 0) {}
  ~Bzip2Stream() override {
    if (initialized_) BZ2_bzDecompressEnd(&strm_);
  }

  Status Init() {
    if (BZ2_bzDecompressInit(&strm_, 0, 0) != BZ_OK) {
      return Status::Internal(StrCat(path(), ": BZ2_bzDecompressInit failed"));
    }
    initialized_ = true;
    return Status::OK();
  }

 private:
  Result<size_t> Decode(char* buf, size_t n) override {
    size_t produced = 0;
    while (produced < n) {
      if (stream_done_) {
        MIXTERA_ASSIGN_OR_RETURN(bool more, EnsureInput());
        if (!more) {
          ended_ = true;
          break;
        }
        BZ2_bzDecompressEnd(&strm_);
        initialized_ = false;
        strm_ = bz_stream{};
        MIXTERA_RETURN_IF_ERROR(Init());
        stream_done_ = false;
      }
      MIXTERA_ASSIGN_OR_RETURN(bool more, EnsureInput());
      if (!more) return Truncated("bzip2");
      const unsigned in_before = ClampToUInt(avail_in_);
      const unsigned out_before = ClampToUInt(n - produced);
      strm_.next_in = reinterpret_cast<char*>(const_cast<uint8_t*>(next_in_));
      strm_.avail_in = in_before;
      strm_.next_out = buf + produced;
      strm_.avail_out = out_before;
      const int ret = BZ2_bzDecompress(&strm_);
      const size_t used = in_before - strm_.avail_in;
      const size_t made = out_before - strm_.avail_out;
      Consume(used);
      produced += made;
      if (ret == BZ_STREAM_END) {
        stream_done_ = true;
      } else if (ret != BZ_OK) {
        return Corrupt("bzip2", BzMessage(ret));
      } else if (used == 0 && made == 0) {
        return Corrupt("bzip2", "decoder made no progress");
      }
    }
    return produced;
  }

  static std::string_view BzMessage(int ret) {
    switch (ret) {
      case BZ_DATA_ERROR:
        return "compressed data is corrupt";
      case BZ_DATA_ERROR_MAGIC:
        return "not a bzip2 stream (bad magic)";
      case BZ_MEM_ERROR:
        return "out of memory";
      default:
        return "BZ2_bzDecompress failed";
    }
  }

  bz_stream strm_{};
  bool initialized_ = false;
  bool stream_done_ = false;
};

Result<ScopedFd> OpenSequential(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, internal::OpenForRead(path));
  // Best effort: a larger read-ahead window; failure changes nothing but speed.
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

// Opens a decompressing stream from the file's start (`start` null) or from a seek point.
Result<std::unique_ptr<InputStream>> OpenCompressed(const std::string& path,
                                                    Compression compression, const SeekPoint* start,
                                                    const InputStreamOptions& options) {
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, OpenSequential(path));
  switch (compression) {
    case Compression::kGzip: {
      int64_t file_offset = 0;
      int64_t position = 0;
      if (start != nullptr) {
        file_offset = start->compressed_offset - (start->bits > 0 ? 1 : 0);
        position = start->decompressed_offset;
      }
      auto stream =
          std::make_unique<GzipStream>(std::move(fd), path, file_offset, position,
                                       options.seek_points, options.gzip_checkpoint_interval);
      MIXTERA_RETURN_IF_ERROR(stream->Init(start));
      return std::unique_ptr<InputStream>(std::move(stream));
    }
    case Compression::kZstd: {
      auto stream =
          std::make_unique<ZstdStream>(std::move(fd), path, start ? start->compressed_offset : 0,
                                       start ? start->decompressed_offset : 0, options.seek_points);
      MIXTERA_RETURN_IF_ERROR(stream->Init());
      return std::unique_ptr<InputStream>(std::move(stream));
    }
    case Compression::kXz: {
      auto stream = std::make_unique<XzStream>(std::move(fd), path);
      MIXTERA_RETURN_IF_ERROR(stream->Init());
      return std::unique_ptr<InputStream>(std::move(stream));
    }
    case Compression::kBzip2: {
      auto stream = std::make_unique<Bzip2Stream>(std::move(fd), path);
      MIXTERA_RETURN_IF_ERROR(stream->Init());
      return std::unique_ptr<InputStream>(std::move(stream));
    }
    case Compression::kNone:
      return std::unique_ptr<InputStream>(std::make_unique<PlainStream>(std::move(fd), path, 0));
  }
  return Status::InvalidArgument(
      StrCat(path, ": unknown compression ", static_cast<int>(compression)));
}

Status CheckSeekPoint(const std::string& path, const SeekPoint& p) {
  if (p.compressed_offset < 0 || p.decompressed_offset < 0 || p.bits < 0 || p.bits > 7 ||
      (p.bits > 0 && p.compressed_offset == 0) || p.window.size() > kDeflateWindowBytes) {
    return Status::InvalidArgument(StrCat(path, ": invalid seek point (compressed offset ",
                                          p.compressed_offset, ", decompressed offset ",
                                          p.decompressed_offset, ", bits ", p.bits, ", window ",
                                          p.window.size(), " bytes)"));
  }
  return Status::OK();
}

// Reads and discards bytes until `stream` is at `offset`.
Status SkipTo(InputStream* stream, int64_t offset, const std::string& path) {
  if (stream->position() >= offset) return Status::OK();
  std::unique_ptr<char[]> scratch(new char[kSkipBufferBytes]);
  while (stream->position() < offset) {
    size_t want = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(kSkipBufferBytes), offset - stream->position()));
    MIXTERA_ASSIGN_OR_RETURN(size_t got, stream->Read(scratch.get(), want));
    if (got == 0) {
      return Status::OutOfRange(StrCat(path, ": offset ", offset,
                                       " is past the end of the decompressed stream (",
                                       stream->position(), " bytes)"));
    }
  }
  return Status::OK();
}

// Seek-point file layout constants (docs/formats.md, "Seek-point files").
constexpr char kSeekMagic[8] = {'M', 'X', 'S', 'E', 'E', 'K', 'P', 'T'};
constexpr uint32_t kSeekVersion = 1;
constexpr size_t kSeekHeaderBytes = 8 + 4 + 4 + 8;      // magic, version, reserved, count
constexpr size_t kSeekEntryFixedBytes = 8 + 8 + 1 + 4;  // offsets, bits, window length
constexpr size_t kSeekTrailerBytes = 4;                 // CRC-32 of everything before

}  // namespace

model::Compression DetectCompression(std::string_view head) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(head[i]); };
  const size_t n = head.size();
  if (n >= 2 && byte(0) == 0x1f && byte(1) == 0x8b && (n < 3 || byte(2) == 8)) {
    return Compression::kGzip;
  }
  if (n >= 4 && byte(1) == 0xb5 && byte(2) == 0x2f && byte(3) == 0xfd && byte(0) == 0x28) {
    return Compression::kZstd;
  }
  // A zstd skippable frame (magic 0x184D2A5?) may come first, as pzstd writes.
  if (n >= 4 && (byte(0) & 0xf0) == 0x50 && byte(1) == 0x2a && byte(2) == 0x4d && byte(3) == 0x18) {
    return Compression::kZstd;
  }
  if (n >= 6 && head.substr(0, 6) == std::string_view("\xfd"
                                                      "7zXZ\0",
                                                      6))
    return Compression::kXz;
  // "BZh", the block size '1'..'9', then a block magic (31 41 ..) or the end-of-stream
  // magic of an empty stream (17 72 ..): six bytes rule out text that starts with "BZh".
  if (n >= 4 && head.substr(0, 3) == "BZh" && byte(3) >= '1' && byte(3) <= '9') {
    if (n < 6 || (byte(4) == 0x31 && byte(5) == 0x41) || (byte(4) == 0x17 && byte(5) == 0x72)) {
      return Compression::kBzip2;
    }
  }
  return Compression::kNone;
}

Result<model::Compression> DetectFileCompression(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, internal::OpenForRead(path));
  char head[16];
  MIXTERA_ASSIGN_OR_RETURN(size_t got, internal::PReadFully(fd.get(), head, sizeof(head), 0, path));
  return DetectCompression(std::string_view(head, got));
}

Result<std::unique_ptr<InputStream>> OpenInputStream(const std::string& path,
                                                     model::Compression compression,
                                                     const InputStreamOptions& options) {
  return OpenCompressed(path, compression, nullptr, options);
}

Result<std::unique_ptr<InputStream>> OpenInputStreamAt(const std::string& path,
                                                       model::Compression compression,
                                                       const std::vector<SeekPoint>& seek_points,
                                                       int64_t offset) {
  if (offset < 0) {
    return Status::InvalidArgument(StrCat(path, ": negative stream offset ", offset));
  }
  if (compression == Compression::kNone) {
    MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, OpenSequential(path));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return internal::ErrnoStatus(errno, "stat", path);
    if (offset > st.st_size) {
      return Status::OutOfRange(StrCat(path, ": offset ", offset, " is past the end of the file (",
                                       st.st_size, " bytes)"));
    }
    return std::unique_ptr<InputStream>(std::make_unique<PlainStream>(std::move(fd), path, offset));
  }
  const SeekPoint* start = nullptr;
  if (compression == Compression::kGzip || compression == Compression::kZstd) {
    for (size_t i = 0; i < seek_points.size(); ++i) {
      MIXTERA_RETURN_IF_ERROR(CheckSeekPoint(path, seek_points[i]));
      if (i > 0 && seek_points[i].decompressed_offset < seek_points[i - 1].decompressed_offset) {
        return Status::InvalidArgument(StrCat(path, ": seek points are not sorted"));
      }
    }
    auto it = std::upper_bound(
        seek_points.begin(), seek_points.end(), offset,
        [](int64_t off, const SeekPoint& p) { return off < p.decompressed_offset; });
    if (it != seek_points.begin()) start = &*std::prev(it);
  }
  MIXTERA_ASSIGN_OR_RETURN(std::unique_ptr<InputStream> stream,
                           OpenCompressed(path, compression, start, InputStreamOptions{}));
  MIXTERA_RETURN_IF_ERROR(SkipTo(stream.get(), offset, path));
  return stream;
}

Status WriteSeekPoints(const std::string& path, const std::vector<SeekPoint>& points) {
  // The rules ReadSeekPoints enforces: valid fields, offset 0 never recorded, ascending.
  for (size_t i = 0; i < points.size(); ++i) {
    const SeekPoint& p = points[i];
    MIXTERA_RETURN_IF_ERROR(CheckSeekPoint(path, p));
    if (p.decompressed_offset == 0 ||
        (i > 0 && (p.decompressed_offset <= points[i - 1].decompressed_offset ||
                   p.compressed_offset < points[i - 1].compressed_offset))) {
      return Status::InvalidArgument(
          StrCat(path, ": seek point ", i, " is at offset 0 or out of order"));
    }
  }
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, internal::OpenForWrite(path));
  std::string buf(kSeekMagic, sizeof(kSeekMagic));
  internal::PutFixed32(&buf, kSeekVersion);
  internal::PutFixed32(&buf, 0);
  internal::PutFixed64(&buf, points.size());
  uLong crc = crc32_z(0L, Z_NULL, 0);
  for (const SeekPoint& p : points) {
    internal::PutFixed64(&buf, static_cast<uint64_t>(p.compressed_offset));
    internal::PutFixed64(&buf, static_cast<uint64_t>(p.decompressed_offset));
    buf.push_back(static_cast<char>(p.bits));
    internal::PutFixed32(&buf, static_cast<uint32_t>(p.window.size()));
    buf.append(p.window);
    if (buf.size() >= kInputBufferBytes) {
      crc = crc32_z(crc, reinterpret_cast<const Bytef*>(buf.data()), buf.size());
      MIXTERA_RETURN_IF_ERROR(internal::WriteFully(fd.get(), buf.data(), buf.size(), path));
      buf.clear();
    }
  }
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(buf.data()), buf.size());
  internal::PutFixed32(&buf, static_cast<uint32_t>(crc));
  MIXTERA_RETURN_IF_ERROR(internal::WriteFully(fd.get(), buf.data(), buf.size(), path));
  return internal::CloseFd(&fd, path);
}

Result<std::vector<SeekPoint>> ReadSeekPoints(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(ScopedFd fd, internal::OpenForRead(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return internal::ErrnoStatus(errno, "stat", path);
  std::string data(static_cast<size_t>(st.st_size), '\0');
  MIXTERA_ASSIGN_OR_RETURN(size_t got,
                           internal::PReadFully(fd.get(), data.data(), data.size(), 0, path));
  data.resize(got);
  auto corrupt = [&](std::string_view why) {
    return Status::Corruption(StrCat(path, ": bad seek-point file: ", why));
  };
  if (data.size() < kSeekHeaderBytes + kSeekTrailerBytes) return corrupt("too short");
  if (std::memcmp(data.data(), kSeekMagic, sizeof(kSeekMagic)) != 0) return corrupt("bad magic");
  const uint32_t version = internal::DecodeFixed32(data.data() + 8);
  if (version != kSeekVersion) {
    return corrupt(StrCat("unsupported version ", version, " (expected ", kSeekVersion, ")"));
  }
  const size_t body_end = data.size() - kSeekTrailerBytes;
  const uint32_t stored_crc = internal::DecodeFixed32(data.data() + body_end);
  const uLong crc = crc32_z(0L, reinterpret_cast<const Bytef*>(data.data()), body_end);
  if (static_cast<uint32_t>(crc) != stored_crc) return corrupt("checksum mismatch");
  const uint64_t count = internal::DecodeFixed64(data.data() + 16);
  if (count > (body_end - kSeekHeaderBytes) / kSeekEntryFixedBytes) {
    return corrupt(StrCat("count ", count, " does not fit the file size ", data.size()));
  }
  std::vector<SeekPoint> points;
  points.reserve(count);
  size_t pos = kSeekHeaderBytes;
  for (uint64_t i = 0; i < count; ++i) {
    if (body_end - pos < kSeekEntryFixedBytes) return corrupt(StrCat("entry ", i, " is truncated"));
    SeekPoint p;
    p.compressed_offset = static_cast<int64_t>(internal::DecodeFixed64(data.data() + pos));
    p.decompressed_offset = static_cast<int64_t>(internal::DecodeFixed64(data.data() + pos + 8));
    p.bits = static_cast<uint8_t>(data[pos + 16]);
    const uint32_t window = internal::DecodeFixed32(data.data() + pos + 17);
    pos += kSeekEntryFixedBytes;
    if (window > kDeflateWindowBytes || body_end - pos < window) {
      return corrupt(StrCat("entry ", i, " has a bad window length ", window));
    }
    p.window.assign(data.data() + pos, window);
    pos += window;
    if (p.compressed_offset < 0 || p.decompressed_offset <= 0 || p.bits > 7 ||
        (p.bits > 0 && p.compressed_offset == 0)) {
      return corrupt(StrCat("entry ", i, " is invalid"));
    }
    if (!points.empty() && (p.decompressed_offset <= points.back().decompressed_offset ||
                            p.compressed_offset < points.back().compressed_offset)) {
      return corrupt(StrCat("entry ", i, " is out of order"));
    }
    points.push_back(std::move(p));
  }
  if (pos != body_end) return corrupt("trailing bytes after the last entry");
  return points;
}

}  // namespace mixtera::formats
