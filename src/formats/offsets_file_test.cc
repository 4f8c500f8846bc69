#include "formats/offsets_file.h"

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace mixtera::formats {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// Random non-overlapping extents: small, empty, adjacent, and gaps/lengths above 4 GiB.
std::vector<RecordExtent> RandomExtents(int64_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<RecordExtent> out;
  int64_t end = static_cast<int64_t>(rng() % 1000);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t kind = rng() % 10;
    int64_t gap = kind == 0 ? 0 : static_cast<int64_t>(rng() % 3);
    int64_t length = static_cast<int64_t>(rng() % 5000);
    if (kind == 1) gap = (int64_t{5} << 30) + static_cast<int64_t>(rng() % 1000);
    if (kind == 2) length = (int64_t{6} << 30) + static_cast<int64_t>(rng() % 1000);
    if (kind == 3) length = 0;
    out.push_back({end + gap, length});
    end += gap + length;
  }
  return out;
}

void WriteExtents(const std::string& path, const std::vector<RecordExtent>& extents) {
  ASSERT_OK_AND_ASSIGN(auto writer, OffsetsWriter::Create(path));
  for (const RecordExtent& e : extents) ASSERT_OK(writer->Add(e.offset, e.length));
  EXPECT_EQ(writer->num_records(), static_cast<int64_t>(extents.size()));
  ASSERT_OK(writer->Finish());
}

class OffsetsRoundTripTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(OffsetsRoundTripTest, GetAndGetRangeReturnWhatWasWritten) {
  const int64_t n = GetParam();
  TempDir dir;
  const std::string path = dir.Join("f.offsets");
  const std::vector<RecordExtent> extents = RandomExtents(n, static_cast<uint32_t>(n));
  WriteExtents(path, extents);
  ASSERT_OK_AND_ASSIGN(auto reader, OffsetsReader::Open(path));
  ASSERT_EQ(reader->num_records(), n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_OK_AND_ASSIGN(RecordExtent e, reader->Get(i));
    ASSERT_EQ(e, extents[i]) << "record " << i;
  }
  std::vector<RecordExtent> all;
  ASSERT_OK(reader->GetRange(0, n, &all));
  EXPECT_TRUE(all == extents);
  std::mt19937 rng(3);
  for (int k = 0; k < 200 && n > 0; ++k) {
    int64_t a = rng() % (n + 1);
    int64_t b = rng() % (n + 1);
    if (a > b) std::swap(a, b);
    std::vector<RecordExtent> range = {{1, 1}};  // GetRange appends
    ASSERT_OK(reader->GetRange(a, b, &range));
    ASSERT_EQ(range.size(), static_cast<size_t>(b - a + 1));
    for (int64_t i = a; i < b; ++i) ASSERT_EQ(range[i - a + 1], extents[i]);
  }
  EXPECT_STATUS(reader->Get(n), StatusCode::kOutOfRange, path);
  EXPECT_STATUS(reader->Get(-1), StatusCode::kOutOfRange, "out of range");
  std::vector<RecordExtent> out;
  EXPECT_STATUS(reader->GetRange(0, n + 1, &out), StatusCode::kOutOfRange, path);
  EXPECT_STATUS(reader->GetRange(1, 0, &out), StatusCode::kOutOfRange, path);
  ASSERT_OK(reader->GetRange(n, n, &out));
  EXPECT_TRUE(out.empty());
}

INSTANTIATE_TEST_SUITE_P(Sizes, OffsetsRoundTripTest,
                         ::testing::Values(0, 1, 127, 128, 129, 256, 1000, 20000));

TEST(OffsetsFileTest, EmptyFileHasNoRecords) {
  TempDir dir;
  WriteExtents(dir.Join("e"), {});
  ASSERT_OK_AND_ASSIGN(auto reader, OffsetsReader::Open(dir.Join("e")));
  EXPECT_EQ(reader->num_records(), 0);
  EXPECT_STATUS(reader->Get(0), StatusCode::kOutOfRange, "out of range");
}

TEST(OffsetsFileTest, ExtremeValues) {
  TempDir dir;
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::vector<RecordExtent> extents = {{0, 0}, {0, 0}, {kMax - 10, 3}, {kMax - 1, 1}};
  WriteExtents(dir.Join("x"), extents);
  ASSERT_OK_AND_ASSIGN(auto reader, OffsetsReader::Open(dir.Join("x")));
  std::vector<RecordExtent> out;
  ASSERT_OK(reader->GetRange(0, 4, &out));
  EXPECT_TRUE(out == extents);
}

TEST(OffsetsFileTest, WriterRejectsOverlapsAndNegativeLengths) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto writer, OffsetsWriter::Create(dir.Join("w")));
  ASSERT_OK(writer->Add(10, 5));
  EXPECT_STATUS(writer->Add(14, 1), StatusCode::kInvalidArgument, "overlaps");
  EXPECT_STATUS(writer->Add(20, -1), StatusCode::kInvalidArgument, "negative");
  EXPECT_STATUS(writer->Add(std::numeric_limits<int64_t>::max(), 2), StatusCode::kInvalidArgument,
                "record 1");
  ASSERT_OK(writer->Add(15, 0));
  ASSERT_OK(writer->Finish());
  EXPECT_STATUS(writer->Add(100, 1), StatusCode::kFailedPrecondition, "Finish");
  EXPECT_STATUS(OffsetsWriter::Create(dir.Join("no/such/dir/f")), StatusCode::kIOError,
                "no/such/dir");
}

TEST(OffsetsFileTest, CorruptFilesAreRejected) {
  TempDir dir;
  const std::string path = dir.Join("good");
  WriteExtents(path, RandomExtents(1000, 9));
  const std::string good = ReadFile(path);
  auto expect_corrupt = [&](const std::string& contents, const std::string& substr) {
    const std::string bad = dir.Join("bad");
    WriteFile(bad, contents);
    EXPECT_STATUS(OffsetsReader::Open(bad), StatusCode::kCorruption, substr);
    EXPECT_STATUS(OffsetsReader::Open(bad), StatusCode::kCorruption, bad);
  };
  std::string footer_magic = good;
  footer_magic[good.size() - 1] ^= 1;
  expect_corrupt(footer_magic, "footer magic");
  std::string header_magic = good;
  header_magic[0] = 'X';
  expect_corrupt(header_magic, "bad magic");
  std::string version = good;
  version[8] = 7;
  expect_corrupt(version, "version");
  std::string count = good;
  count[good.size() - 39] ^= 0x10;  // num_records + 4096: another block count
  expect_corrupt(count, "sizes do not match");
  std::string count_in_block = good;
  count_in_block[good.size() - 40] ^= 0x01;  // num_records +- 1: same block count
  expect_corrupt(count_in_block, "corrupt offsets file");
  std::string directory = good;
  directory[good.size() - 40 - 3] ^= 0x01;  // last directory entry
  expect_corrupt(directory, "checksum");
  expect_corrupt(good.substr(0, good.size() - 1), "footer magic");
  expect_corrupt(good.substr(0, 20), "too short");
  expect_corrupt("", "too short");
  EXPECT_STATUS(OffsetsReader::Open(dir.Join("missing")), StatusCode::kNotFound, "missing");
}

TEST(OffsetsFileTest, CorruptPayloadIsCorruption) {
  TempDir dir;
  const std::string path = dir.Join("p");
  WriteExtents(path, RandomExtents(300, 1));  // three blocks
  const std::string good = ReadFile(path);
  // The payload starts after the 16-byte header: make the first varints run on forever.
  std::string contents = good;
  for (size_t i = 16; i < 600; ++i) contents[i] = static_cast<char>(0xff);
  WriteFile(path, contents);
  // Only the last block is checked when opening; the first fails when it is read.
  ASSERT_OK_AND_ASSIGN(auto reader, OffsetsReader::Open(path));
  EXPECT_STATUS(reader->Get(1), StatusCode::kCorruption, "cannot be decoded");
  std::vector<RecordExtent> out;
  EXPECT_STATUS(reader->GetRange(0, 300, &out), StatusCode::kCorruption, path);
  ASSERT_OK_AND_ASSIGN(RecordExtent last, reader->Get(299));
  EXPECT_EQ(last, RandomExtents(300, 1)[299]);
  // A bad last block is found when opening.
  contents = good;
  const size_t directory = good.size() - 40 - 3 * 16;
  contents[directory - 1] = static_cast<char>(0x80);
  WriteFile(path, contents);
  EXPECT_STATUS(OffsetsReader::Open(path), StatusCode::kCorruption, path);
}

}  // namespace
}  // namespace mixtera::formats
