#include "chunk/job_state.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "chunk/job_test_util.h"
#include "formats/record_log.h"
#include "testing/test_util.h"

namespace mixtera::chunk {
namespace {

using ::mixtera::testing::ReadFile;
using ::mixtera::testing::TempDir;
using ::mixtera::testing::WriteFile;
using testing_util::Drain;
using testing_util::Fixture;
using testing_util::MakeFixture;
using testing_util::SameChunk;

// A saved job of 2 keys and about 160 chunks in `dir`/job.
std::string SaveJob(const TempDir& dir) {
  Fixture f = MakeFixture(6, 2, 3, 2000);
  auto job = Job::Create(f.def, std::move(f.index));
  EXPECT_OK(job.status());
  const std::string job_dir = dir.Join("job");
  EXPECT_OK((*job)->Save(job_dir));
  return job_dir;
}

void ExpectSameChunks(const Job& a, const Job& b) {
  const auto x = Drain(a), y = Drain(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t k = 0; k < x.size(); ++k) ASSERT_TRUE(SameChunk(x[k], y[k])) << "chunk " << k;
}

TEST(JobState, ChangesAreDurableAndEveryProcessReplaysThem) {
  TempDir dir;
  const std::string job_dir = SaveJob(dir);
  ASSERT_OK_AND_ASSIGN(auto job, Job::Open(job_dir));
  {
    ASSERT_OK_AND_ASSIGN(auto writer, JobStateWriter::Open(job_dir, job.get()));
    ASSERT_OK(writer->UpdateMixture(10, {0, 1}));
    ASSERT_OK(writer->UpdateMixture(25, {3, 1}));
    ASSERT_OK(writer->SetHorizon(40));
    // A change the job refuses is not recorded.
    EXPECT_STATUS(writer->UpdateMixture(20, {1, 1}), StatusCode::kInvalidArgument,
                  "after chunk 25");
    EXPECT_STATUS(writer->UpdateMixture(30, {1}), StatusCode::kInvalidArgument, "2 weights");
    EXPECT_EQ(writer->num_records(), 3);
  }
  ASSERT_OK_AND_ASSIGN(auto reopened, Job::Open(job_dir));
  EXPECT_EQ(reopened->definition().mixture_log.size(), 3u);
  EXPECT_EQ(reopened->definition().horizon, 40);
  ASSERT_OK_AND_ASSIGN(ChunkReply c30, reopened->GetChunk(30));
  EXPECT_EQ(c30.chunk.mixture_id, 2);
  ASSERT_OK_AND_ASSIGN(ChunkReply c40, reopened->GetChunk(40));
  EXPECT_EQ(c40.status, ChunkStatus::kNotYet);
  job->SetHorizon(-1);
  reopened->SetHorizon(-1);
  ExpectSameChunks(*job, *reopened);
}

TEST(JobState, AWriterCatchesUpWithRecordsWrittenSinceItsJobWasOpened) {
  TempDir dir;
  const std::string job_dir = SaveJob(dir);
  ASSERT_OK_AND_ASSIGN(auto early, Job::Open(job_dir));  // before any change
  {
    ASSERT_OK_AND_ASSIGN(auto other, Job::Open(job_dir));
    ASSERT_OK_AND_ASSIGN(auto writer, JobStateWriter::Open(job_dir, other.get()));
    ASSERT_OK(writer->UpdateMixture(5, {1, 2}));
    // One writer at a time, also within one process.
    EXPECT_STATUS(JobStateWriter::Open(job_dir, early.get()).status(),
                  StatusCode::kFailedPrecondition, "another writer");
  }
  ASSERT_OK_AND_ASSIGN(auto writer, JobStateWriter::Open(job_dir, early.get()));
  EXPECT_EQ(early->definition().mixture_log.size(), 2u);
  ASSERT_OK(writer->UpdateMixture(9, {2, 1}));
  ASSERT_OK_AND_ASSIGN(auto reopened, Job::Open(job_dir));
  EXPECT_EQ(reopened->definition().mixture_log.size(), 3u);
  ExpectSameChunks(*early, *reopened);
}

TEST(JobState, ChangedBytesAndRecordsThatDoNotFitAreCorruptionNamingTheLog) {
  TempDir dir;
  const std::string job_dir = SaveJob(dir);
  {
    ASSERT_OK_AND_ASSIGN(auto job, Job::Open(job_dir));
    ASSERT_OK_AND_ASSIGN(auto writer, JobStateWriter::Open(job_dir, job.get()));
    ASSERT_OK(writer->UpdateMixture(10, {0, 1}));
  }
  const std::string log_path = JobStateLogPath(job_dir);
  const std::string good = ReadFile(log_path);
  std::string changed = good;
  changed[changed.size() - 3] ^= 0x01;
  WriteFile(log_path, changed);
  EXPECT_STATUS(Job::Open(job_dir).status(), StatusCode::kCorruption, "state.log");
  // A torn last record (a crash while appending) is ignored.
  WriteFile(log_path, good.substr(0, good.size() - 4));
  ASSERT_OK_AND_ASSIGN(auto torn, Job::Open(job_dir));
  EXPECT_EQ(torn->definition().mixture_log.size(), 1u);
  // Well-framed records the job cannot apply.
  for (const std::string& record :
       {std::string("{\"type\": \"mixture\", \"start_chunk\": 3, \"weights\": [1]}"),
        std::string("{\"type\": \"teleport\"}"), std::string("not json")}) {
    std::filesystem::remove(log_path);
    {
      ASSERT_OK_AND_ASSIGN(auto log, formats::RecordLogWriter::Open(log_path));
      ASSERT_OK(log->Append(record));
    }
    EXPECT_STATUS(Job::Open(job_dir).status(), StatusCode::kCorruption, "state.log: record 0");
  }
}

TEST(JobState, AWriterKilledWhileAppendingLeavesAJobThatOpens) {
  TempDir dir;
  const std::string job_dir = SaveJob(dir);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto job = Job::Open(job_dir);
    if (!job.ok()) ::_exit(1);
    auto writer = JobStateWriter::Open(job_dir, job->get());
    if (!writer.ok()) ::_exit(2);
    for (int64_t c = 1;; ++c) {
      if (!(*writer)->UpdateMixture(c, {1.0 + c % 5, 1.0}).ok()) ::_exit(3);
    }
  }
  ::usleep(300 * 1000);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself: " << WEXITSTATUS(status);
  ASSERT_OK_AND_ASSIGN(auto job, Job::Open(job_dir));
  const auto& log = job->definition().mixture_log;
  ASSERT_GT(log.size(), 1u);
  for (size_t i = 1; i < log.size(); ++i) {
    ASSERT_EQ(log[i].start_chunk, static_cast<int64_t>(i));
    ASSERT_EQ(log[i].weights, (std::vector<double>{1.0 + static_cast<double>(i % 5), 1.0}));
  }
  // The lock died with the writer: this process takes over.
  ASSERT_OK_AND_ASSIGN(auto writer, JobStateWriter::Open(job_dir, job.get()));
  ASSERT_OK(writer->UpdateMixture(static_cast<int64_t>(log.size()) + 1, {1, 1}));
}

TEST(JobState, OfTwoProcessesRacingForTheWriteLockExactlyOneWins) {
  TempDir dir;
  const std::string job_dir = SaveJob(dir);
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(go[1]);
      char byte;
      (void)!::read(go[0], &byte, 1);  // both start together
      auto job = Job::Open(job_dir);
      if (!job.ok()) ::_exit(3);
      auto writer = JobStateWriter::Open(job_dir, job->get());
      if (!writer.ok()) ::_exit(writer.status().code() == StatusCode::kFailedPrecondition ? 1 : 4);
      ::usleep(300 * 1000);  // hold the lock while the other one tries
      ::_exit((*writer)->UpdateMixture(7, {1, 3}).ok() ? 0 : 5);
    }
    children.push_back(child);
  }
  ::close(go[0]);
  (void)!::write(go[1], "xx", 2);
  ::close(go[1]);
  int won = 0, lost = 0;
  for (pid_t child : children) {
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) ++won;
    if (WEXITSTATUS(status) == 1) ++lost;
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, 1);
  ASSERT_OK_AND_ASSIGN(auto job, Job::Open(job_dir));
  EXPECT_EQ(job->definition().mixture_log.size(), 2u);
}

}  // namespace
}  // namespace mixtera::chunk
