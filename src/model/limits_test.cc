#include "model/limits.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace mixtera::model {
namespace {

TEST(Limits, CheckLimitAcceptsTheClosedRangeAndNamesTheField) {
  EXPECT_OK(CheckLimit(limits::kChunkSize, 1));
  EXPECT_OK(CheckLimit(limits::kChunkSize, limits::kMaxCount));
  EXPECT_STATUS(CheckLimit(limits::kChunkSize, 0), StatusCode::kInvalidArgument,
                "chunk_size must be in [1, 1099511627776], got 0");
  EXPECT_STATUS(CheckLimit(limits::kChunkSize, INT64_MAX), StatusCode::kInvalidArgument,
                "got 9223372036854775807");
  EXPECT_STATUS(CheckLimit(limits::kDpGroups, -2, "--dp-groups"), StatusCode::kInvalidArgument,
                "--dp-groups must be in [1, 65536], got -2");
}

TEST(Limits, EveryCountFromTheTableIsExactInADouble) {
  for (const Limit& l : limits::kAll) {
    EXPECT_LE(l.min, l.max) << l.name;
    if (l.name != "limit") {
      EXPECT_LE(l.max, int64_t{1} << 53) << l.name;
    }
    EXPECT_EQ(FindLimit(l.name), &l);
  }
  EXPECT_EQ(FindLimit("no such number"), nullptr);
}

TEST(Limits, SeedsSpanUint64AndNothingElse) {
  ASSERT_OK_AND_ASSIGN(uint64_t zero, ParseSeed("0"));
  EXPECT_EQ(zero, 0u);
  ASSERT_OK_AND_ASSIGN(uint64_t top, ParseSeed("18446744073709551615"));
  EXPECT_EQ(top, UINT64_MAX);
  for (const char* bad : {"-1", "18446744073709551616", "99999999999999999999999", "", "1e3", " 7",
                          "7 ", "+7", "0x10", "seven"}) {
    SCOPED_TRACE(bad);
    EXPECT_STATUS(ParseSeed(bad, "--seed").status(), StatusCode::kInvalidArgument,
                  "--seed must be an integer in [0, 2^64)");
  }
}

}  // namespace
}  // namespace mixtera::model
