#include "formats/line_reader.h"

#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace mixtera::formats {
namespace {

using model::Compression;
using testing::TempDir;
using testing::WriteFile;

struct Expected {
  int64_t offset;
  std::string bytes;
};

// The reference split: on '\n', a final unterminated line counts, empty input has none.
std::vector<Expected> Split(const std::string& data) {
  std::vector<Expected> out;
  size_t begin = 0;
  while (begin < data.size()) {
    size_t nl = data.find('\n', begin);
    if (nl == std::string::npos) nl = data.size();
    out.push_back({static_cast<int64_t>(begin), data.substr(begin, nl - begin)});
    begin = nl + 1;
  }
  return out;
}

// Reads all lines, touching the kPadding bytes after each one.
Result<std::vector<Expected>> ReadLines(std::unique_ptr<InputStream> stream, size_t buffer) {
  LineReader reader(std::move(stream), buffer);
  std::vector<Expected> out;
  LineReader::Line line;
  volatile char sink = 0;
  while (true) {
    Result<bool> more = reader.Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    EXPECT_EQ(line.index, static_cast<int64_t>(out.size()));
    for (size_t i = 0; i < LineReader::kPadding; ++i)
      sink = sink ^ line.bytes.data()[line.bytes.size() + i];
    out.push_back({line.offset, std::string(line.bytes)});
  }
  EXPECT_EQ(reader.num_lines(), static_cast<int64_t>(out.size()));
  // The end is sticky.
  Result<bool> again = reader.Next(&line);
  EXPECT_TRUE(again.ok() && !*again);
  return out;
}

Result<std::vector<Expected>> ReadFileLines(const std::string& path, size_t buffer,
                                            Compression c = Compression::kNone) {
  Result<std::unique_ptr<InputStream>> stream = OpenInputStream(path, c);
  if (!stream.ok()) return stream.status();
  return ReadLines(std::move(*stream), buffer);
}

void ExpectLines(const std::vector<Expected>& got, const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].offset, want[i].offset) << "line " << i;
    EXPECT_EQ(got[i].bytes, want[i].bytes) << "line " << i;
  }
}

TEST(LineReaderTest, SplitsOnNewlines) {
  TempDir dir;
  WriteFile(dir.Join("f"), "a\nbb\n\nccc");
  ASSERT_OK_AND_ASSIGN(auto lines, ReadFileLines(dir.Join("f"), 1 << 20));
  ExpectLines(lines, {{0, "a"}, {2, "bb"}, {5, ""}, {6, "ccc"}});
}

TEST(LineReaderTest, KeepsCarriageReturns) {
  TempDir dir;
  WriteFile(dir.Join("f"), "x\r\ny\r\n\r\n");
  ASSERT_OK_AND_ASSIGN(auto lines, ReadFileLines(dir.Join("f"), 1 << 20));
  ExpectLines(lines, {{0, "x\r"}, {3, "y\r"}, {6, "\r"}});
}

TEST(LineReaderTest, EmptyAndNewlineOnlyFiles) {
  TempDir dir;
  WriteFile(dir.Join("empty"), "");
  ASSERT_OK_AND_ASSIGN(auto lines, ReadFileLines(dir.Join("empty"), 16));
  EXPECT_TRUE(lines.empty());
  WriteFile(dir.Join("nl"), "\n");
  ASSERT_OK_AND_ASSIGN(lines, ReadFileLines(dir.Join("nl"), 16));
  ExpectLines(lines, {{0, ""}});
  WriteFile(dir.Join("blank"), "\n\n\n");
  ASSERT_OK_AND_ASSIGN(lines, ReadFileLines(dir.Join("blank"), 1));
  ExpectLines(lines, {{0, ""}, {1, ""}, {2, ""}});
}

TEST(LineReaderTest, LinesLongerThanTheBuffer) {
  TempDir dir;
  std::mt19937 rng(4);
  std::string data;
  for (int i = 0; i < 300; ++i) {
    const size_t len = rng() % 5 == 0 ? rng() % 5000 : rng() % 40;
    for (size_t j = 0; j < len; ++j) data.push_back(static_cast<char>('a' + rng() % 26));
    data += rng() % 7 == 0 ? "\r\n" : "\n";
  }
  data += "final line without newline";
  WriteFile(dir.Join("f"), data);
  for (size_t buffer : {size_t{1}, size_t{7}, size_t{64}, size_t{4096}, size_t{1} << 20}) {
    ASSERT_OK_AND_ASSIGN(auto lines, ReadFileLines(dir.Join("f"), buffer));
    ExpectLines(lines, Split(data));
  }
}

TEST(LineReaderTest, ReadsThroughDecompression) {
  TempDir dir;
  std::string data;
  for (int i = 0; i < 100000; ++i) data += "{\"i\": " + std::to_string(i) + "}\n";
  std::string gz(compressBound(data.size()) + 64, '\0');
  z_stream s{};
  ASSERT_EQ(deflateInit2(&s, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  s.next_in = reinterpret_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(gz.data());
  s.avail_out = static_cast<uInt>(gz.size());
  ASSERT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  gz.resize(s.total_out);
  deflateEnd(&s);
  WriteFile(dir.Join("f.gz"), gz);
  ASSERT_OK_AND_ASSIGN(auto lines, ReadFileLines(dir.Join("f.gz"), 1000, Compression::kGzip));
  ExpectLines(lines, Split(data));
}

TEST(LineReaderTest, OffsetsStartAtTheStreamPosition) {
  TempDir dir;
  WriteFile(dir.Join("f"), "zero\none\ntwo\n");
  ASSERT_OK_AND_ASSIGN(auto stream, OpenInputStreamAt(dir.Join("f"), Compression::kNone, {}, 5));
  ASSERT_OK_AND_ASSIGN(auto lines, ReadLines(std::move(stream), 3));
  ExpectLines(lines, {{5, "one"}, {9, "two"}});
}

TEST(LineReaderTest, PropagatesStreamErrors) {
  TempDir dir;
  std::string data(100000, 'x');
  WriteFile(dir.Join("bad.gz"), std::string("\x1f\x8b\x08\x00", 4) + data);
  EXPECT_STATUS(ReadFileLines(dir.Join("bad.gz"), 1 << 16, Compression::kGzip),
                StatusCode::kCorruption, dir.Join("bad.gz"));
}

}  // namespace
}  // namespace mixtera::formats
