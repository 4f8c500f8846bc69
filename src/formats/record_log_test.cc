#include "formats/record_log.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/strings.h"
#include "testing/test_util.h"

namespace mixtera::formats {
namespace {

using ::mixtera::testing::ReadFile;
using ::mixtera::testing::TempDir;
using ::mixtera::testing::WriteFile;

std::vector<std::string> SomeRecords() {
  return {"first", "", std::string(1000, 'x'), "with\0nul" + std::string("\xff\x01", 2), "last"};
}

TEST(RecordLog, RecordsComeBackInOrderAcrossReopens) {
  TempDir dir;
  const std::string path = dir.Join("state.log");
  {
    ASSERT_OK_AND_ASSIGN(auto log, RecordLogWriter::Open(path));
    EXPECT_TRUE(log->existing_records().empty());
    for (const std::string& r : SomeRecords()) ASSERT_OK(log->Append(r));
    ASSERT_OK(log->Sync());
  }
  ASSERT_OK_AND_ASSIGN(auto log, RecordLogWriter::Open(path));
  EXPECT_EQ(log->existing_records(), SomeRecords());
  ASSERT_OK(log->Append("after reopen"));
  ASSERT_OK_AND_ASSIGN(RecordLogContents c, ReadRecordLog(path));
  std::vector<std::string> want = SomeRecords();
  want.push_back("after reopen");
  EXPECT_EQ(c.records, want);
  EXPECT_FALSE(c.torn_tail);
  EXPECT_EQ(c.valid_bytes, log->size());
  // Frame sizes: 12 header bytes per record.
  size_t bytes = 0;
  for (const std::string& r : want) bytes += kRecordHeaderBytes + r.size();
  EXPECT_EQ(static_cast<size_t>(c.valid_bytes), bytes);
}

TEST(RecordLog, EveryTruncationIsATornTailNeverAnError) {
  TempDir dir;
  const std::string path = dir.Join("state.log");
  {
    ASSERT_OK_AND_ASSIGN(auto log, RecordLogWriter::Open(path));
    for (const std::string& r : SomeRecords()) ASSERT_OK(log->Append(r));
  }
  const std::string whole = ReadFile(path);
  const std::vector<std::string> all = SomeRecords();
  for (size_t cut = 0; cut <= whole.size(); ++cut) {
    WriteFile(path, whole.substr(0, cut));
    ASSERT_OK_AND_ASSIGN(RecordLogContents c, ReadRecordLog(path));
    // The records that end at or before `cut`.
    size_t end = 0, complete = 0;
    while (complete < all.size() && end + kRecordHeaderBytes + all[complete].size() <= cut) {
      end += kRecordHeaderBytes + all[complete].size();
      ++complete;
    }
    ASSERT_EQ(c.records.size(), complete) << cut;
    EXPECT_EQ(static_cast<size_t>(c.valid_bytes), end) << cut;
    EXPECT_EQ(c.torn_tail, cut != end) << cut;
  }
  // A writer cuts the torn tail off and appends after the last complete record.
  WriteFile(path, whole.substr(0, whole.size() - 2));
  {
    ASSERT_OK_AND_ASSIGN(auto log, RecordLogWriter::Open(path));
    EXPECT_EQ(log->existing_records().size(), all.size() - 1);
    ASSERT_OK(log->Append("replacement"));
  }
  ASSERT_OK_AND_ASSIGN(RecordLogContents c, ReadRecordLog(path));
  ASSERT_EQ(c.records.size(), all.size());
  EXPECT_EQ(c.records.back(), "replacement");
  EXPECT_FALSE(c.torn_tail);
}

TEST(RecordLog, EveryChangedByteOfACompleteRecordIsCorruption) {
  TempDir dir;
  const std::string path = dir.Join("state.log");
  {
    ASSERT_OK_AND_ASSIGN(auto log, RecordLogWriter::Open(path));
    for (const std::string& r : SomeRecords()) ASSERT_OK(log->Append(r));
  }
  const std::string whole = ReadFile(path);
  for (size_t i = 0; i < whole.size(); ++i) {
    for (int bit : {0, 5}) {
      std::string changed = whole;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      WriteFile(path, changed);
      auto c = ReadRecordLog(path);
      ASSERT_FALSE(c.ok()) << "byte " << i << " bit " << bit << " went unnoticed";
      EXPECT_EQ(c.status().code(), StatusCode::kCorruption) << i;
      EXPECT_NE(c.status().message().find(path), std::string::npos);
      EXPECT_STATUS(RecordLogWriter::Open(path).status(), StatusCode::kCorruption, "checksum");
    }
  }
  EXPECT_STATUS(ReadRecordLog(dir.Join("none.log")).status(), StatusCode::kNotFound, "none.log");
}

TEST(RecordLog, OneWriterAtATimeAndALaterProcessTakesOver) {
  TempDir dir;
  const std::string path = dir.Join("state.log");
  {
    ASSERT_OK_AND_ASSIGN(auto first, RecordLogWriter::Open(path));
    EXPECT_STATUS(RecordLogWriter::Open(path).status(), StatusCode::kFailedPrecondition,
                  "another writer holds the lock");
    // Readers never need the lock.
    ASSERT_OK(first->Append("a"));
    ASSERT_OK_AND_ASSIGN(RecordLogContents c, ReadRecordLog(path));
    EXPECT_EQ(c.records, std::vector<std::string>{"a"});
  }
  // A child process that holds the lock and dies without closing: the lock goes with it.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto log = RecordLogWriter::Open(path);
    const char byte = log.ok() ? 'y' : 'n';
    if (log.ok()) (void)(*log)->Append("from the child");
    (void)!::write(ready[1], &byte, 1);
    ::pause();  // until killed
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  EXPECT_STATUS(RecordLogWriter::Open(path).status(), StatusCode::kFailedPrecondition, "lock");
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  ASSERT_OK_AND_ASSIGN(auto taken_over, RecordLogWriter::Open(path));
  EXPECT_EQ(taken_over->existing_records(), (std::vector<std::string>{"a", "from the child"}));
}

TEST(RecordLog, AWriterKilledWhileAppendingLeavesAReadableLog) {
  TempDir dir;
  const std::string path = dir.Join("state.log");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto log = RecordLogWriter::Open(path);
    if (!log.ok()) ::_exit(1);
    for (int i = 0;; ++i)
      (void)(*log)->Append(StrCat("record ", i, " ", std::string(i % 5000, 'r')));
  }
  ::usleep(200 * 1000);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_OK_AND_ASSIGN(RecordLogContents c, ReadRecordLog(path));
  ASSERT_GT(c.records.size(), 0u);
  for (size_t i = 0; i < c.records.size(); ++i) {
    ASSERT_EQ(c.records[i], StrCat("record ", i, " ", std::string(i % 5000, 'r')));
  }
  ASSERT_OK_AND_ASSIGN(auto log, RecordLogWriter::Open(path));
  EXPECT_EQ(log->existing_records().size(), c.records.size());
  ASSERT_OK(log->Append("next"));
  ASSERT_OK_AND_ASSIGN(RecordLogContents after, ReadRecordLog(path));
  EXPECT_EQ(after.records.back(), "next");
}

}  // namespace
}  // namespace mixtera::formats
