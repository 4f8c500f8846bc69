#include "formats/token_counts_file.h"

#include <random>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace mixtera::formats {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

TEST(TokenCountsFileTest, RangeSumsEqualSummedCounts) {
  TempDir dir;
  std::mt19937 rng(7);
  std::vector<uint32_t> counts(5000);
  for (auto& c : counts) c = rng() % 3 == 0 ? 0 : rng() % 100000;
  counts[17] = 0xFFFFFFFFu;  // large counts add up past 32 bits
  const std::string path = dir.path() + "/f.tokens";
  ASSERT_OK(WriteTokenCounts(path, counts));
  ASSERT_OK_AND_ASSIGN(auto reader, TokenCountsReader::Open(path));
  ASSERT_OK(reader->Validate());
  EXPECT_EQ(reader->num_records(), 5000);
  int64_t total = 0;
  for (uint32_t c : counts) total += c;
  EXPECT_EQ(reader->total_tokens(), total);
  for (int trial = 0; trial < 200; ++trial) {
    int64_t b = rng() % 5001, e = rng() % 5001;
    if (b > e) std::swap(b, e);
    int64_t want = 0;
    for (int64_t i = b; i < e; ++i) want += counts[i];
    ASSERT_EQ(reader->RangeTokens(b, e), want) << b << ".." << e;
  }
}

TEST(TokenCountsFileTest, EmptyFile) {
  TempDir dir;
  ASSERT_OK(WriteTokenCounts(dir.path() + "/e.tokens", {}));
  ASSERT_OK_AND_ASSIGN(auto reader, TokenCountsReader::Open(dir.path() + "/e.tokens"));
  EXPECT_EQ(reader->num_records(), 0);
  EXPECT_EQ(reader->total_tokens(), 0);
}

TEST(TokenCountsFileTest, DamageIsCorruptionNamingThePath) {
  TempDir dir;
  const std::string path = dir.path() + "/f.tokens";
  ASSERT_OK(WriteTokenCounts(path, {3, 4, 5}));
  const std::string good = ReadFile(path);
  EXPECT_STATUS(TokenCountsReader::Open(dir.path() + "/missing.tokens").status(),
                StatusCode::kNotFound, "missing.tokens");
  WriteFile(path, good.substr(0, good.size() - 3));
  EXPECT_STATUS(TokenCountsReader::Open(path).status(), StatusCode::kCorruption, path);
  std::string bad = good;
  bad[0] = 'X';
  WriteFile(path, bad);
  EXPECT_STATUS(TokenCountsReader::Open(path).status(), StatusCode::kCorruption, "bad magic");
  // The prefix sum of record 1 made larger than record 2's.
  bad = good;
  bad[24 + 1 * 8] = static_cast<char>(0x7f);
  WriteFile(path, bad);
  ASSERT_OK_AND_ASSIGN(auto reader, TokenCountsReader::Open(path));
  EXPECT_STATUS(reader->Validate(), StatusCode::kCorruption, "decreases at record 1");
  EXPECT_EQ(reader->RangeTokens(1, 2), 0);
}

}  // namespace
}  // namespace mixtera::formats
