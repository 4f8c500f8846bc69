#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "engine/engine.h"
#include "formats/file_lock.h"
#include "testing/test_util.h"

namespace mixtera::engine {
namespace {

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// What a crash before DuckDB's first write leaves (issue: hardening, 1): the directory used
// to fail every command with "not a valid DuckDB database file" until the file was deleted.
TEST(EngineOpen, AnEmptyStoreFileIsANewStore) {
  testing::TempDir dir;
  const std::string mx = dir.Join("mx");
  ASSERT_EQ(::mkdir(mx.c_str(), 0755), 0);
  std::ofstream(mx + "/mixtera.duckdb").close();
  ASSERT_EQ(FileSize(mx + "/mixtera.duckdb"), 0);
  {
    ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(mx));
    ASSERT_OK_AND_ASSIGN(auto datasets, engine->ListDatasets());
    EXPECT_TRUE(datasets.empty());
  }
  EXPECT_GT(FileSize(mx + "/mixtera.duckdb"), 0);
  ASSERT_OK_AND_ASSIGN(auto again, Engine::Open(mx));  // a real store now: opened, not replaced
}

TEST(EngineOpen, AGarbageStoreFileIsStillACorruptionError) {
  testing::TempDir dir;
  const std::string mx = dir.Join("mx");
  ASSERT_EQ(::mkdir(mx.c_str(), 0755), 0);
  std::ofstream(mx + "/mixtera.duckdb") << "not a database at all";
  EXPECT_FALSE(Engine::Open(mx).ok());
  EXPECT_EQ(FileSize(mx + "/mixtera.duckdb"), 21);  // left as it was: it may hold data
}

TEST(EngineOpen, OpeningWaitsForTheOpenLockAndGivesUpAfterItsTimeout) {
  testing::TempDir dir;
  const std::string lock_path = dir.Join("x.lock");
  ASSERT_OK_AND_ASSIGN(formats::FileLock held,
                       formats::FileLock::Acquire(lock_path, std::chrono::milliseconds(0)));
  EXPECT_STATUS(formats::FileLock::Acquire(lock_path, std::chrono::milliseconds(50)).status(),
                StatusCode::kUnavailable, "held the lock for more than 50 ms");
  { formats::FileLock released = std::move(held); }
  EXPECT_OK(formats::FileLock::Acquire(lock_path, std::chrono::milliseconds(0)).status());
}

}  // namespace
}  // namespace mixtera::engine
