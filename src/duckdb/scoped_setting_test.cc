#include "duckdb/scoped_setting.h"

#include <optional>
#include <string>
#include <utility>

#include "testing/test_util.h"

namespace mixtera::duckdb {
namespace {

std::string CurrentSetting(Connection& conn, const std::string& name) {
  auto result = conn.Query("SELECT CAST(current_setting(" + QuoteLiteral(name) + ") AS VARCHAR)");
  EXPECT_OK(result);
  if (!result.ok()) return "";
  auto has_row = result->NextChunk();
  EXPECT_TRUE(has_row.ok() && *has_row);
  return std::string(result->GetString(0, 0));
}

// An in-memory table of 10M BIGINTs (80 MB) with no temp directory cannot be spilled, so it
// fits under the fixture's 256 MB limit and fails under an 8 MB one.
constexpr const char* kBigTable =
    "CREATE OR REPLACE TABLE big AS SELECT range AS x FROM range(10000000)";

class ScopedSettingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(":memory:", DatabaseOptions{"256MB", 1}));
    db_.emplace(std::move(db));
    ASSERT_OK_AND_ASSIGN(Connection conn, db_->Connect());
    conn_.emplace(std::move(conn));
    ASSERT_OK(conn_->Execute("SET temp_directory = ''"));
  }

  std::optional<Database> db_;
  std::optional<Connection> conn_;
};

TEST_F(ScopedSettingTest, LimitHoldsWhileInScopeAndIsRestoredAfter) {
  const std::string original = CurrentSetting(*conn_, "memory_limit");
  ASSERT_FALSE(original.empty());
  {
    ASSERT_OK_AND_ASSIGN(ScopedSetting limit, ScopedSetting::Set(&*conn_, "memory_limit", "8MB"));
    EXPECT_TRUE(limit.active());
    EXPECT_NE(CurrentSetting(*conn_, "memory_limit"), original);
    EXPECT_STATUS(conn_->Execute(kBigTable), StatusCode::kIOError, "Out of Memory");
    // Global: another connection of the database sees the limit too.
    ASSERT_OK_AND_ASSIGN(Connection other, db_->Connect());
    EXPECT_STATUS(other.Execute(kBigTable), StatusCode::kIOError, "Out of Memory");
  }
  EXPECT_EQ(CurrentSetting(*conn_, "memory_limit"), original);
  EXPECT_OK(conn_->Execute(kBigTable));
}

TEST_F(ScopedSettingTest, RestoreRunsOnceAndGoesBackToTheOpenValueOrTheDefault) {
  // threads: opened with 1.
  ASSERT_OK_AND_ASSIGN(ScopedSetting first, ScopedSetting::Set(&*conn_, "threads", "3"));
  EXPECT_EQ(CurrentSetting(*conn_, "threads"), "3");
  ScopedSetting moved(std::move(first));
  EXPECT_FALSE(first.active());  // NOLINT(bugprone-use-after-move): the moved-from state
  EXPECT_TRUE(moved.active());
  EXPECT_OK(first.Restore());  // nothing to do
  EXPECT_EQ(CurrentSetting(*conn_, "threads"), "3");
  EXPECT_OK(moved.Restore());
  EXPECT_FALSE(moved.active());
  EXPECT_EQ(CurrentSetting(*conn_, "threads"), "1");
  ASSERT_OK(conn_->Execute("SET threads = 2"));
  EXPECT_OK(moved.Restore());  // a second restore does nothing
  EXPECT_EQ(CurrentSetting(*conn_, "threads"), "2");

  // allocator_flush_threshold: not set at open, so it goes back to DuckDB's default.
  const std::string flush_default = CurrentSetting(*conn_, "allocator_flush_threshold");
  {
    ASSERT_OK_AND_ASSIGN(ScopedSetting flush,
                         ScopedSetting::Set(&*conn_, "allocator_flush_threshold", "1GB"));
    EXPECT_NE(CurrentSetting(*conn_, "allocator_flush_threshold"), flush_default);
  }
  EXPECT_EQ(CurrentSetting(*conn_, "allocator_flush_threshold"), flush_default);
}

TEST_F(ScopedSettingTest, RejectedSettingsLeaveTheValue) {
  const std::string original = CurrentSetting(*conn_, "memory_limit");
  EXPECT_STATUS(ScopedSetting::Set(&*conn_, "no_such_setting", "1"), StatusCode::kInvalidArgument,
                "no_such_setting");
  EXPECT_STATUS(ScopedSetting::Set(&*conn_, "memory_limit", "lots"), StatusCode::kInvalidArgument,
                "");
  EXPECT_EQ(CurrentSetting(*conn_, "memory_limit"), original);
}

// DuckDB keeps a memory_limit it cannot meet (here: 80 MB of table that cannot be evicted);
// Set() must not leave it behind.
TEST_F(ScopedSettingTest, ALimitBelowWhatIsHeldFailsAndIsUndone) {
  const std::string original = CurrentSetting(*conn_, "memory_limit");
  ASSERT_OK(conn_->Execute(kBigTable));
  EXPECT_STATUS(ScopedSetting::Set(&*conn_, "memory_limit", "8MB"), StatusCode::kIOError,
                "Out of Memory");
  EXPECT_EQ(CurrentSetting(*conn_, "memory_limit"), original);
}

}  // namespace
}  // namespace mixtera::duckdb
