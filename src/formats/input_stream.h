// Sequential reading of a data file's (decompressed) bytes, with seek points for
// compressed files (DESIGN.md §3.1, docs/formats.md).
//
// Compression is detected by magic bytes, never by extension: gzip (1f 8b), zstd
// (28 b5 2f fd), xz (fd 37 7a 58 5a 00), bz2 ("BZh"). Multi-member gzip, multi-frame
// zstd, concatenated xz and multi-stream bz2 are read whole.
//
// Seek points let a reader start decoding in the middle of a compressed file:
//   zstd: every frame start (compressed offset of the frame, decompressed offset);
//   gzip: an inflate checkpoint about every `gzip_checkpoint_interval` decompressed bytes
//         (deflate block boundary: compressed offset, bit offset, the 32 KiB window);
//   xz, bz2: none beyond the start.
// Offset 0 is always a valid start and is not recorded as a seek point.
//
// Thread safety: a stream is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mixtera/result.h"
#include "model/dataset_info.h"

namespace mixtera::formats {

struct SeekPoint {
  int64_t compressed_offset = 0;    // byte offset in the file where decoding resumes
  int64_t decompressed_offset = 0;  // offset in the decompressed stream at that point
  // gzip only: number of bits of the byte before compressed_offset that belong to the
  // next deflate block (0-7), and the preceding up-to-32 KiB of output (the dictionary).
  int bits = 0;
  std::string window;
};

// Returns the compression of `head` (the first bytes of a file; 6 suffice).
model::Compression DetectCompression(std::string_view head);
// Reads the first bytes of `path` and detects its compression.
// Errors: NotFound / IOError naming the path.
Result<model::Compression> DetectFileCompression(const std::string& path);

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Reads up to `n` bytes into `buf`. Returns 0 only at the end of the stream.
  // Errors: Corruption naming the path and the compressed offset (truncated or corrupt
  // compressed data), IOError.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Decompressed bytes delivered so far (plus the start offset for OpenInputStreamAt).
  virtual int64_t position() const = 0;
};

struct InputStreamOptions {
  // When set, seek points are appended here while the stream is read to the end.
  std::vector<SeekPoint>* seek_points = nullptr;
  // Distance between gzip checkpoints in decompressed bytes. Default: 16 MiB.
  int64_t gzip_checkpoint_interval = int64_t{16} << 20;
};

// Opens `path` for sequential reading of its decompressed bytes.
// Errors: NotFound (missing path), IOError (unreadable), all naming the path.
Result<std::unique_ptr<InputStream>> OpenInputStream(const std::string& path,
                                                     model::Compression compression,
                                                     const InputStreamOptions& options = {});

// Opens `path` positioned at decompressed offset `offset`, decoding from the last seek point
// at or before it (or from the start) and discarding the bytes before `offset`.
Result<std::unique_ptr<InputStream>> OpenInputStreamAt(const std::string& path,
                                                       model::Compression compression,
                                                       const std::vector<SeekPoint>& seek_points,
                                                       int64_t offset);

// Seek-point files (docs/formats.md). Errors: IOError; Corruption for a bad file.
Status WriteSeekPoints(const std::string& path, const std::vector<SeekPoint>& points);
Result<std::vector<SeekPoint>> ReadSeekPoints(const std::string& path);

}  // namespace mixtera::formats
