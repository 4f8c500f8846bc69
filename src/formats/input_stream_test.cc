#include "formats/input_stream.h"

#include <bzlib.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace mixtera::formats {
namespace {

using model::Compression;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// Text-like data: lines of words from a small vocabulary, so every codec compresses it
// into many blocks, with some random bytes mixed in.
std::string MakeText(size_t bytes, uint32_t seed) {
  static const char* const kWords[] = {
      "alpha",   "beta",       "gamma",  "delta", "mixture", "token", "sample", "chunk", "python",
      "license", "{\"text\":", "\"x\"}", "0",     "42",      "the",   "of",     "and"};
  std::mt19937 rng(seed);
  std::string out;
  out.reserve(bytes + 64);
  while (out.size() < bytes) {
    const uint32_t r = rng();
    if (r % 97 == 0) {
      out.push_back(static_cast<char>(rng() & 0xff));
    } else if (r % 13 == 0) {
      out.push_back('\n');
    } else {
      out += kWords[r % (sizeof(kWords) / sizeof(kWords[0]))];
      out.push_back(' ');
    }
  }
  out.resize(bytes);
  return out;
}

std::string GzipCompress(const std::string& data, int level = 6) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&s, data.size()), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

std::string ZstdCompress(const std::string& data, int level = 3) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string XzCompress(const std::string& data) {
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, nullptr,
                                    reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                                    reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

std::string Bzip2Compress(const std::string& data) {
  unsigned int len = static_cast<unsigned int>(data.size() + data.size() / 100 + 600);
  std::string out(len, '\0');
  EXPECT_EQ(BZ2_bzBuffToBuffCompress(out.data(), &len, const_cast<char*>(data.data()),
                                     static_cast<unsigned int>(data.size()), 1, 0, 0),
            BZ_OK);
  out.resize(len);
  return out;
}

std::string Compress(Compression c, const std::string& data) {
  switch (c) {
    case Compression::kGzip:
      return GzipCompress(data);
    case Compression::kZstd:
      return ZstdCompress(data);
    case Compression::kXz:
      return XzCompress(data);
    case Compression::kBzip2:
      return Bzip2Compress(data);
    case Compression::kNone:
      return data;
  }
  return data;
}

// Compresses `data` in `parts` pieces and concatenates them (multi-member gzip,
// multi-frame zstd, concatenated xz and bzip2 streams).
std::string CompressParts(Compression c, const std::string& data, int parts) {
  std::string out;
  const size_t step = data.size() / parts + 1;
  for (size_t pos = 0; pos < data.size(); pos += step) out += Compress(c, data.substr(pos, step));
  if (data.empty()) out = Compress(c, data);
  return out;
}

// Reads the stream to its end with reads of varying sizes.
Result<std::string> ReadAll(InputStream* stream, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  const size_t sizes[] = {1, 7, 512, 4096, 65536, size_t{1} << 20};
  std::string out;
  std::string buf(size_t{1} << 20, '\0');
  const int64_t start = stream->position();
  while (true) {
    const size_t want = sizes[rng() % 6];
    Result<size_t> got = stream->Read(buf.data(), want);
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    EXPECT_LE(*got, want);
    out.append(buf.data(), *got);
    EXPECT_EQ(stream->position(), start + static_cast<int64_t>(out.size()));
  }
  return out;
}

Result<std::string> ReadN(InputStream* stream, size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    Result<size_t> got = stream->Read(out.data() + done, n - done);
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    done += *got;
  }
  out.resize(done);
  return out;
}

const Compression kAll[] = {Compression::kNone, Compression::kGzip, Compression::kZstd,
                            Compression::kXz, Compression::kBzip2};
const Compression kCompressed[] = {Compression::kGzip, Compression::kZstd, Compression::kXz,
                                   Compression::kBzip2};

TEST(DetectCompressionTest, RecognizesMagicBytes) {
  for (Compression c : kAll) {
    EXPECT_EQ(DetectCompression(Compress(c, MakeText(1000, 1))), c) << model::CompressionName(c);
  }
  EXPECT_EQ(DetectCompression(Compress(Compression::kBzip2, "")), Compression::kBzip2);
  // A zstd skippable frame first (as pzstd writes).
  EXPECT_EQ(DetectCompression(std::string("\x50\x2a\x4d\x18\x00\x00\x00\x00", 8)),
            Compression::kZstd);
}

TEST(DetectCompressionTest, WrongOrShortMagicIsNone) {
  EXPECT_EQ(DetectCompression(""), Compression::kNone);
  EXPECT_EQ(DetectCompression("\x1f"), Compression::kNone);
  EXPECT_EQ(DetectCompression("\x1f\x8c\x08"), Compression::kNone);
  EXPECT_EQ(DetectCompression("BZh is a text file"), Compression::kNone);
  EXPECT_EQ(DetectCompression("BZh9xy"), Compression::kNone);
  EXPECT_EQ(DetectCompression(std::string("\xfd"
                                          "7zXY\0",
                                          6)),
            Compression::kNone);
  EXPECT_EQ(DetectCompression("\x28\xb5\x2f\xfe"), Compression::kNone);
  EXPECT_EQ(DetectCompression("{\"text\": \"hello\"}"), Compression::kNone);
}

TEST(DetectCompressionTest, DetectsFilesAndReportsErrors) {
  TempDir dir;
  WriteFile(dir.Join("a.json.zst"), ZstdCompress("{}\n"));
  WriteFile(dir.Join("tiny"), "x");
  ASSERT_OK_AND_ASSIGN(Compression c, DetectFileCompression(dir.Join("a.json.zst")));
  EXPECT_EQ(c, Compression::kZstd);
  ASSERT_OK_AND_ASSIGN(c, DetectFileCompression(dir.Join("tiny")));
  EXPECT_EQ(c, Compression::kNone);
  EXPECT_STATUS(DetectFileCompression(dir.Join("missing")), StatusCode::kNotFound, "missing");
  // A directory opens but cannot be read.
  EXPECT_STATUS(DetectFileCompression(dir.path()), StatusCode::kIOError, dir.path());
}

class RoundTripTest : public ::testing::TestWithParam<std::tuple<Compression, int>> {};

TEST_P(RoundTripTest, ReadsWholeStream) {
  const auto [compression, parts] = GetParam();
  TempDir dir;
  const std::string data = MakeText(3 << 20, 7);
  const std::string path = dir.Join("data");
  WriteFile(path, CompressParts(compression, data, parts));
  ASSERT_OK_AND_ASSIGN(Compression detected, DetectFileCompression(path));
  EXPECT_EQ(detected, compression);
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(path, compression));
  ASSERT_OK_AND_ASSIGN(std::string read, ReadAll(stream.get()));
  EXPECT_EQ(read.size(), data.size());
  EXPECT_TRUE(read == data);
  // The end is sticky.
  char c;
  ASSERT_OK_AND_ASSIGN(size_t n, stream->Read(&c, 1));
  EXPECT_EQ(n, 0u);
}

TEST_P(RoundTripTest, ReadsEmptyStream) {
  const auto [compression, parts] = GetParam();
  TempDir dir;
  const std::string path = dir.Join("empty");
  std::string contents;
  for (int i = 0; i < parts; ++i) contents += Compress(compression, "");
  WriteFile(path, contents);
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(path, compression));
  ASSERT_OK_AND_ASSIGN(std::string read, ReadAll(stream.get()));
  EXPECT_EQ(read, "");
}

TEST_P(RoundTripTest, OpensAtOffsetWithoutSeekPoints) {
  const auto [compression, parts] = GetParam();
  TempDir dir;
  const std::string data = MakeText(1 << 20, 9);
  const std::string path = dir.Join("data");
  WriteFile(path, CompressParts(compression, data, parts));
  for (int64_t offset : {int64_t{0}, int64_t{1}, int64_t{300000}, int64_t{1 << 20}}) {
    ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStreamAt(path, compression, {}, offset));
    EXPECT_EQ(stream->position(), offset);
    ASSERT_OK_AND_ASSIGN(std::string read, ReadN(stream.get(), 5000));
    EXPECT_TRUE(read == data.substr(offset, 5000)) << offset;
  }
  EXPECT_STATUS(OpenInputStreamAt(path, compression, {}, (1 << 20) + 1), StatusCode::kOutOfRange,
                "past the end");
  EXPECT_STATUS(OpenInputStreamAt(path, compression, {}, -1), StatusCode::kInvalidArgument,
                "negative");
}

INSTANTIATE_TEST_SUITE_P(AllCompressions, RoundTripTest,
                         ::testing::Combine(::testing::ValuesIn(kAll), ::testing::Values(1, 4)));

class TruncatedTest : public ::testing::TestWithParam<Compression> {};

TEST_P(TruncatedTest, TruncatedFileIsCorruption) {
  const Compression compression = GetParam();
  TempDir dir;
  const std::string compressed = Compress(compression, MakeText(1 << 20, 3));
  const std::string path = dir.Join("cut");
  for (size_t keep : {compressed.size() - 1, compressed.size() / 2, size_t{10}}) {
    WriteFile(path, compressed.substr(0, keep));
    ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(path, compression));
    Result<std::string> read = ReadAll(stream.get());
    EXPECT_STATUS(read, StatusCode::kCorruption, "truncated");
    EXPECT_STATUS(read, StatusCode::kCorruption, path);
    EXPECT_STATUS(read, StatusCode::kCorruption, "compressed offset");
  }
}

TEST_P(TruncatedTest, CorruptDataIsCorruption) {
  const Compression compression = GetParam();
  TempDir dir;
  std::string compressed = Compress(compression, MakeText(1 << 20, 3));
  for (size_t i = compressed.size() / 3; i < compressed.size() / 3 + 64; ++i) compressed[i] ^= 0x5a;
  const std::string path = dir.Join("bad");
  WriteFile(path, compressed);
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(path, compression));
  EXPECT_STATUS(ReadAll(stream.get()), StatusCode::kCorruption, path);
}

TEST_P(TruncatedTest, TrailingGarbageIsCorruption) {
  const Compression compression = GetParam();
  TempDir dir;
  const std::string path = dir.Join("garbage");
  WriteFile(path, Compress(compression, "hello\n") + "this is not compressed data");
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(path, compression));
  EXPECT_STATUS(ReadAll(stream.get()), StatusCode::kCorruption, path);
}

TEST_P(TruncatedTest, EmptyFileIsCorruption) {
  TempDir dir;
  WriteFile(dir.Join("zero"), "");
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(dir.Join("zero"), GetParam()));
  EXPECT_STATUS(ReadAll(stream.get()), StatusCode::kCorruption, "truncated");
}

INSTANTIATE_TEST_SUITE_P(Compressed, TruncatedTest, ::testing::ValuesIn(kCompressed));

TEST(InputStreamTest, MissingAndUnreadableFiles) {
  TempDir dir;
  EXPECT_STATUS(OpenInputStream(dir.Join("nope.gz"), Compression::kGzip), StatusCode::kNotFound,
                dir.Join("nope.gz"));
  EXPECT_STATUS(OpenInputStreamAt(dir.Join("nope"), Compression::kNone, {}, 0),
                StatusCode::kNotFound, dir.Join("nope"));
  // A directory: open() works, read() fails.
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(dir.path(), Compression::kNone));
  char buf[16];
  EXPECT_STATUS(stream->Read(buf, sizeof(buf)), StatusCode::kIOError, dir.path());
  if (::geteuid() != 0) {  // root reads anything
    WriteFile(dir.Join("secret"), "x");
    ::chmod(dir.Join("secret").c_str(), 0);
    EXPECT_STATUS(OpenInputStream(dir.Join("secret"), Compression::kNone), StatusCode::kIOError,
                  dir.Join("secret"));
  }
}

TEST(InputStreamTest, ReadsFilesMadeByCommandLineTools) {
  TempDir dir;
  const std::string data = MakeText(2 << 20, 11);
  WriteFile(dir.Join("d"), data);
  const std::string d = dir.Join("d");
  // Multi-member gzip and multi-frame zstd made by the tools themselves.
  const std::string cmd = "cd '" + dir.path() + "' && gzip -c d > d.gz && " +
                          "(gzip -1 -c d; gzip -9 -c d) > d2.gz && zstd -q -c d > d.zst && " +
                          "(zstd -q -c d; zstd -q -1 -c d) > d2.zst && xz -c -1 d > d.xz && " +
                          "bzip2 -c -1 d > d.bz2 && (bzip2 -c d; bzip2 -c d) > d2.bz2";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::pair<const char*, std::string> cases[] = {
      {"d.gz", data}, {"d2.gz", data + data}, {"d.zst", data},        {"d2.zst", data + data},
      {"d.xz", data}, {"d.bz2", data},        {"d2.bz2", data + data}};
  for (const auto& [name, expected] : cases) {
    ASSERT_OK_AND_ASSIGN(Compression c, DetectFileCompression(dir.Join(name)));
    EXPECT_NE(c, Compression::kNone) << name;
    ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(dir.Join(name), c));
    ASSERT_OK_AND_ASSIGN(std::string read, ReadAll(stream.get()));
    EXPECT_TRUE(read == expected) << name;
  }
}

// Checks OpenInputStreamAt against the sequential bytes at many random offsets.
void CheckRandomOffsets(const std::string& path, Compression compression,
                        const std::vector<SeekPoint>& points, const std::string& data,
                        int samples) {
  std::mt19937_64 rng(5);
  std::vector<int64_t> offsets = {0, static_cast<int64_t>(data.size()),
                                  static_cast<int64_t>(data.size()) - 1};
  for (const SeekPoint& p : points) {
    offsets.push_back(p.decompressed_offset);
    offsets.push_back(p.decompressed_offset - 1);
  }
  for (int i = 0; i < samples; ++i) offsets.push_back(static_cast<int64_t>(rng() % data.size()));
  for (int64_t offset : offsets) {
    ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStreamAt(path, compression, points, offset));
    EXPECT_EQ(stream->position(), offset);
    const size_t want = 1 + rng() % 200000;
    ASSERT_OK_AND_ASSIGN(std::string read, ReadN(stream.get(), want));
    ASSERT_TRUE(read == data.substr(static_cast<size_t>(offset), want)) << "offset " << offset;
  }
  EXPECT_STATUS(OpenInputStreamAt(path, compression, points, data.size() + 1),
                StatusCode::kOutOfRange, path);
}

TEST(SeekPointTest, GzipCheckpointsAllowRandomAccess) {
  TempDir dir;
  const std::string data = MakeText(40 << 20, 21);
  const std::string path = dir.Join("big.gz");
  WriteFile(path, GzipCompress(data, 1));
  std::vector<SeekPoint> points;
  InputStreamOptions options;
  options.seek_points = &points;
  options.gzip_checkpoint_interval = 1 << 20;
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(path, Compression::kGzip, options));
  ASSERT_OK_AND_ASSIGN(std::string read, ReadAll(stream.get()));
  ASSERT_TRUE(read == data);
  EXPECT_GE(points.size(), 35u);
  EXPECT_LE(points.size(), 41u);
  bool some_bits = false;
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_GT(points[i].decompressed_offset, i == 0 ? 0 : points[i - 1].decompressed_offset);
    EXPECT_GE(points[i].decompressed_offset - (i == 0 ? 0 : points[i - 1].decompressed_offset),
              1 << 20);
    EXPECT_EQ(points[i].window.size(), 32768u);
    some_bits |= points[i].bits != 0;
  }
  EXPECT_TRUE(some_bits);
  // Through the seek-point file, as a client would.
  ASSERT_OK(WriteSeekPoints(dir.Join("big.seek"), points));
  ASSERT_OK_AND_ASSIGN(std::vector<SeekPoint> loaded, ReadSeekPoints(dir.Join("big.seek")));
  CheckRandomOffsets(path, Compression::kGzip, loaded, data, 60);
}

TEST(SeekPointTest, GzipCheckpointsSpanMembers) {
  TempDir dir;
  const std::string data = MakeText(9 << 20, 22);
  const std::string path = dir.Join("multi.gz");
  // Members of unequal size, one of them empty.
  const std::string contents = GzipCompress(data.substr(0, 3 << 20)) + GzipCompress("") +
                               GzipCompress(data.substr(3 << 20, 5 << 20), 9) +
                               GzipCompress(data.substr(8 << 20));
  WriteFile(path, contents);
  std::vector<SeekPoint> points;
  InputStreamOptions options;
  options.seek_points = &points;
  options.gzip_checkpoint_interval = 700 << 10;
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(path, Compression::kGzip, options));
  ASSERT_OK_AND_ASSIGN(std::string read, ReadAll(stream.get()));
  ASSERT_TRUE(read == data);
  EXPECT_GE(points.size(), 10u);
  CheckRandomOffsets(path, Compression::kGzip, points, data, 60);
  // Reading from the first checkpoint to the end crosses the later members.
  ASSERT_OK_AND_ASSIGN(stream, OpenInputStreamAt(path, Compression::kGzip, points,
                                                 points[0].decompressed_offset + 10));
  ASSERT_OK_AND_ASSIGN(read, ReadAll(stream.get()));
  EXPECT_TRUE(read == data.substr(points[0].decompressed_offset + 10));
}

TEST(SeekPointTest, ZstdFramesAllowRandomAccess) {
  TempDir dir;
  const std::string data = MakeText(12 << 20, 23);
  const std::string path = dir.Join("frames.zst");
  std::string contents;
  int frames = 0;
  for (size_t pos = 0; pos < data.size(); pos += 500000, ++frames) {
    contents += ZstdCompress(data.substr(pos, 500000));
    if (frames == 3) {
      // A skippable frame (magic 0x184D2A5A, 5 bytes of payload) between data frames.
      contents += std::string("\x5a\x2a\x4d\x18\x05\x00\x00\x00skip!", 13);
    }
  }
  WriteFile(path, contents);
  std::vector<SeekPoint> points;
  InputStreamOptions options;
  options.seek_points = &points;
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStream(path, Compression::kZstd, options));
  ASSERT_OK_AND_ASSIGN(std::string read, ReadAll(stream.get()));
  ASSERT_TRUE(read == data);
  ASSERT_EQ(points.size(), static_cast<size_t>(frames - 1));
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(points[i].decompressed_offset, static_cast<int64_t>((i + 1) * 500000));
  }
  ASSERT_OK(WriteSeekPoints(dir.Join("frames.seek"), points));
  ASSERT_OK_AND_ASSIGN(std::vector<SeekPoint> loaded, ReadSeekPoints(dir.Join("frames.seek")));
  CheckRandomOffsets(path, Compression::kZstd, loaded, data, 80);
}

TEST(SeekPointTest, SingleFrameZstdHasNoSeekPoints) {
  TempDir dir;
  const std::string data = MakeText(2 << 20, 24);
  WriteFile(dir.Join("one.zst"), ZstdCompress(data));
  std::vector<SeekPoint> points;
  InputStreamOptions options;
  options.seek_points = &points;
  ASSERT_OK_AND_ASSIGN(auto stream,
                       OpenInputStream(dir.Join("one.zst"), Compression::kZstd, options));
  ASSERT_OK_AND_ASSIGN(std::string read, ReadAll(stream.get()));
  EXPECT_TRUE(read == data);
  EXPECT_TRUE(points.empty());
  CheckRandomOffsets(dir.Join("one.zst"), Compression::kZstd, points, data, 5);
}

TEST(SeekPointTest, UnsortedOrInvalidSeekPointsAreRejected) {
  TempDir dir;
  WriteFile(dir.Join("a.zst"), ZstdCompress("hello") + ZstdCompress("world"));
  std::vector<SeekPoint> unsorted = {{5, 5, 0, {}}, {3, 2, 0, {}}};
  EXPECT_STATUS(OpenInputStreamAt(dir.Join("a.zst"), Compression::kZstd, unsorted, 6),
                StatusCode::kInvalidArgument, "sorted");
  std::vector<SeekPoint> bad_bits = {{5, 5, 9, {}}};
  EXPECT_STATUS(OpenInputStreamAt(dir.Join("a.zst"), Compression::kZstd, bad_bits, 6),
                StatusCode::kInvalidArgument, "invalid seek point");
  EXPECT_STATUS(WriteSeekPoints(dir.Join("x.seek"), unsorted), StatusCode::kInvalidArgument,
                "out of order");
}

TEST(SeekPointFileTest, RoundTripsAndValidates) {
  TempDir dir;
  std::vector<SeekPoint> points = {{100, 1000, 3, std::string(32768, 'w')},
                                   {200, 5000, 0, "short window"},
                                   {int64_t{5} << 40, int64_t{9} << 40, 7, ""}};
  const std::string path = dir.Join("p.seek");
  ASSERT_OK(WriteSeekPoints(path, points));
  ASSERT_OK_AND_ASSIGN(std::vector<SeekPoint> loaded, ReadSeekPoints(path));
  ASSERT_EQ(loaded.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(loaded[i].compressed_offset, points[i].compressed_offset);
    EXPECT_EQ(loaded[i].decompressed_offset, points[i].decompressed_offset);
    EXPECT_EQ(loaded[i].bits, points[i].bits);
    EXPECT_EQ(loaded[i].window, points[i].window);
  }
  ASSERT_OK(WriteSeekPoints(dir.Join("empty.seek"), {}));
  ASSERT_OK_AND_ASSIGN(loaded, ReadSeekPoints(dir.Join("empty.seek")));
  EXPECT_TRUE(loaded.empty());

  const std::string good = ReadFile(path);
  std::string flipped = good;
  flipped[40] ^= 1;
  WriteFile(dir.Join("flipped"), flipped);
  EXPECT_STATUS(ReadSeekPoints(dir.Join("flipped")), StatusCode::kCorruption, "checksum");
  WriteFile(dir.Join("cut"), good.substr(0, good.size() - 10));
  EXPECT_STATUS(ReadSeekPoints(dir.Join("cut")), StatusCode::kCorruption, dir.Join("cut"));
  WriteFile(dir.Join("magic"), "XX" + good.substr(2));
  EXPECT_STATUS(ReadSeekPoints(dir.Join("magic")), StatusCode::kCorruption, "magic");
  std::string version = good;
  version[8] = 9;
  WriteFile(dir.Join("version"), version);
  EXPECT_STATUS(ReadSeekPoints(dir.Join("version")), StatusCode::kCorruption, "version");
  WriteFile(dir.Join("short"), "MX");
  EXPECT_STATUS(ReadSeekPoints(dir.Join("short")), StatusCode::kCorruption, "too short");
  EXPECT_STATUS(ReadSeekPoints(dir.Join("missing")), StatusCode::kNotFound, "missing");
  EXPECT_STATUS(WriteSeekPoints(dir.Join("no/such/dir/p"), points), StatusCode::kIOError,
                "no/such/dir");
}

}  // namespace
}  // namespace mixtera::formats
