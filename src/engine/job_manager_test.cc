#include "engine/job_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <limits>
#include <random>
#include <thread>

#include "chunk/job_test_util.h"
#include "engine/engine.h"

namespace mixtera::engine {
namespace {

using chunk::ChunkStatus;
using chunk::testing_util::MakeFixture;
using chunk::testing_util::SameChunk;
using Clock = std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("mx_jobmgr_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_ / "jobs");
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

// Saves a dynamic job over `keys` keys with equal initial weights into <dir>/jobs/job and
// returns it loaded (as Engine::ExecuteQuery would: horizon 0, nothing decided).
std::shared_ptr<chunk::Job> SaveDynamicJob(const std::string& dir, int keys, int64_t chunk_size,
                                           int64_t lag, int per_file = 4000) {
  auto f = MakeFixture(2 * keys, keys, 4, per_file);
  f.def.mixture.type = model::MixtureType::kDynamic;
  f.def.mixture.chunk_size = chunk_size;
  f.def.mixture.lag_chunks = lag;
  f.def.mixture_log[0].weights.assign(keys, 1.0);
  for (auto& w : f.def.mixture.weights) w.weight = 1.0 / keys;
  f.def.horizon = 0;
  auto job = chunk::Job::Create(std::move(f.def), std::move(f.index));
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_TRUE((*job)->Save(Engine::JobDirOf(dir, "job")).ok());
  return std::shared_ptr<chunk::Job>(std::move(job).value());
}

std::vector<int64_t> Counts(const chunk::ChunkDescriptor& c, size_t keys) {
  std::vector<int64_t> out(keys, 0);
  for (const auto& part : c.keys) out[part.key_id] = part.num_samples;
  return out;
}

// The original's SimpleAveragingAlgorithm.
std::shared_ptr<MixingDriver> Averaging() {
  return std::make_shared<AlgorithmDriver>(std::make_unique<mixture::SimpleAveraging>());
}

// Returns the weights given by a function of the step, after an optional delay.
class StepDriver final : public MixingDriver {
 public:
  using Fn = std::function<std::optional<std::vector<double>>(int64_t step)>;
  explicit StepDriver(Fn fn, std::function<void()> delay = {})
      : fn_(std::move(fn)), delay_(std::move(delay)) {}
  Status Start(const std::vector<double>& initial) override {
    initial_ = initial;
    return Status::OK();
  }
  Result<std::optional<std::vector<double>>> OnFeedback(const chunk::FeedbackRecord& f) override {
    if (delay_) delay_();
    return fn_(f.training_step);
  }
  std::vector<double> initial_;

 private:
  Fn fn_;
  std::function<void()> delay_;
};

ClientFeedback Feedback(int64_t step, int64_t position, std::vector<float> losses,
                        std::vector<int64_t> counts, int64_t mixture_id = 0) {
  ClientFeedback f;
  f.training_step = step;
  f.position = position;
  f.losses = std::move(losses);
  f.counts = std::move(counts);
  f.mixture_id = mixture_id;
  return f;
}

// The original's integration scenario: 50/50 with chunk_size 12, losses 2:1 -> 8/4 next.
TEST(JobManagerTest, FeedbackChangesTheNextChunk) {
  TempDir dir;
  auto job = SaveDynamicJob(dir.str(), 2, 12, 0);
  JobManager jobs(dir.str());
  ASSERT_TRUE(jobs.Adopt(job).ok());
  ASSERT_TRUE(jobs.SetDriver("job", Averaging()).ok());
  auto not_yet = jobs.GetChunk("job", 0);
  ASSERT_TRUE(not_yet.ok());
  EXPECT_EQ(not_yet->status, ChunkStatus::kNotYet);
  ASSERT_TRUE(jobs.StartChunk("job", 0).ok());
  auto c0 = jobs.GetChunk("job", 0);
  ASSERT_TRUE(c0.ok() && c0->status == ChunkStatus::kChunk);
  EXPECT_EQ(Counts(c0->chunk, 2), (std::vector<int64_t>{6, 6}));
  EXPECT_EQ(jobs.GetChunk("job", 1)->status, ChunkStatus::kNotYet);  // no read-ahead

  auto r = jobs.ProcessFeedback("job", Feedback(1, 1, {12.0f, 6.0f}, {6, 6}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->applies_at, 1);
  ASSERT_TRUE(jobs.StartChunk("job", 1).ok());
  auto c1 = jobs.GetChunk("job", 1);
  ASSERT_TRUE(c1.ok() && c1->status == ChunkStatus::kChunk);
  EXPECT_EQ(Counts(c1->chunk, 2), (std::vector<int64_t>{8, 4}));
  EXPECT_EQ(c1->chunk.mixture_id, 1);

  // The same step again (another pipeline stage) is ignored; the state log holds one.
  auto dup = jobs.ProcessFeedback("job", Feedback(1, 2, {1.0f, 9.0f}, {6, 6}, 1));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  auto status = jobs.JobStatus("job");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->feedback_records, 1);
  EXPECT_EQ(status->horizon, 2);
  EXPECT_EQ(status->num_mixtures, 2);
}

TEST(JobManagerTest, LagMovesTheChangeAndLetsReadAheadRun) {
  TempDir dir;
  auto job = SaveDynamicJob(dir.str(), 2, 12, 2);
  JobManager jobs(dir.str());
  ASSERT_TRUE(jobs.Adopt(job).ok());
  ASSERT_TRUE(jobs.SetDriver("job", Averaging()).ok());
  ASSERT_TRUE(jobs.StartChunk("job", 0).ok());
  EXPECT_EQ(jobs.GetChunk("job", 2)->status, ChunkStatus::kChunk);  // read-ahead of 2
  EXPECT_EQ(jobs.GetChunk("job", 3)->status, ChunkStatus::kNotYet);
  auto r = jobs.ProcessFeedback("job", Feedback(1, 1, {12.0f, 6.0f}, {6, 6}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->applies_at, 3);
  ASSERT_TRUE(jobs.StartChunk("job", 1).ok());
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(Counts(jobs.GetChunk("job", k)->chunk, 2), (std::vector<int64_t>{6, 6})) << k;
  }
  EXPECT_EQ(Counts(jobs.GetChunk("job", 3)->chunk, 2), (std::vector<int64_t>{8, 4}));
}

TEST(JobManagerTest, InitialMixtureIsTheFirstChunksCountsAsFloat32) {
  TempDir dir;
  auto job = SaveDynamicJob(dir.str(), 3, 10, 0);  // 1/3 each -> counts 4/3/3
  JobManager jobs(dir.str());
  ASSERT_TRUE(jobs.Adopt(job).ok());
  auto driver = std::make_shared<StepDriver>([](int64_t) { return std::nullopt; });
  ASSERT_TRUE(jobs.SetDriver("job", driver).ok());
  ASSERT_EQ(driver->initial_.size(), 3u);
  EXPECT_EQ(driver->initial_[0], static_cast<double>(0.4f));
  EXPECT_EQ(driver->initial_[1], static_cast<double>(0.3f));
  EXPECT_EQ(driver->initial_[2], static_cast<double>(0.3f));
}

TEST(JobManagerTest, BadFeedbackIsRefusedAndChangesNothing) {
  TempDir dir;
  auto job = SaveDynamicJob(dir.str(), 2, 12, 0);
  JobManager jobs(dir.str());
  ASSERT_TRUE(jobs.Adopt(job).ok());
  auto no_driver = jobs.ProcessFeedback("job", Feedback(1, 1, {1.0f, 1.0f}, {1, 1}));
  EXPECT_EQ(no_driver.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(jobs.SetDriver("job", Averaging()).ok());
  ASSERT_TRUE(jobs.StartChunk("job", 0).ok());
  const auto log_size =
      std::filesystem::file_size(Engine::JobDirOf(dir.str(), "job") + "/state.log");
  struct Case {
    ClientFeedback feedback;
    std::string message;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<Case> cases = {
      {Feedback(1, 1, {nan, 1.0f}, {1, 1}), "key id 0 is not finite"},
      {Feedback(1, 1, {1.0f, 1.0f}, {1, -3}), "count of key id 1 is negative"},
      {Feedback(1, 1, {1.0f, 1.0f, 1.0f}, {1, 1, 1}), "key id 2 is beyond the job's 2 keys"},
      {Feedback(1, 1, {1.0f}, {1, 1}), "1 losses but 2 counts"},
      {Feedback(-1, 1, {}, {}), "training step -1 is negative"},
      {Feedback(1, 1, {1.0f, 1.0f}, {1, 1}, 5), "mixture id 5 was never sent"},
  };
  for (const auto& c : cases) {
    auto r = jobs.ProcessFeedback("job", c.feedback);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("job 'job'"), std::string::npos);
  }
  auto status = jobs.JobStatus("job");
  EXPECT_EQ(status->feedback_records, 0);
  EXPECT_EQ(status->num_mixtures, 1);
  EXPECT_EQ(std::filesystem::file_size(Engine::JobDirOf(dir.str(), "job") + "/state.log"),
            log_size);
  // A valid step afterwards still works.
  ASSERT_TRUE(jobs.ProcessFeedback("job", Feedback(1, 1, {2.0f, 1.0f}, {1, 1})).ok());
}

// Runs a consumer of `chunks` chunks that sends feedback after every chunk, with random
// sleeps in the driver and the consumer, and returns every chunk's counts.
std::vector<std::vector<int64_t>> RunWithFeedback(int64_t lag, uint32_t seed, int chunks) {
  TempDir dir;
  auto job = SaveDynamicJob(dir.str(), 3, 30, lag);
  JobManager jobs(dir.str());
  EXPECT_TRUE(jobs.Adopt(job).ok());
  std::mt19937 rng(seed);
  auto sleep = [](int us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); };
  EXPECT_TRUE(jobs.SetDriver("job", std::make_shared<StepDriver>(
                                        [](int64_t step) {
                                          return std::optional<std::vector<double>>(
                                              {1.0 + step % 3, 1.0 + step % 5, 1.0});
                                        },
                                        [seed] {
                                          thread_local std::mt19937 r(seed);
                                          std::this_thread::sleep_for(
                                              std::chrono::microseconds(r() % 2000));
                                        }))
                  .ok());
  // A read-ahead thread that waits for chunks as far as they are decided.
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    for (int64_t k = 0; k < chunks + lag; ++k) {
      auto r = jobs.WaitForChunk("job", k, Clock::time_point::max(), &stop);
      if (!r.ok()) return;
    }
  });
  std::vector<std::vector<int64_t>> out;
  for (int k = 0; k < chunks; ++k) {
    EXPECT_TRUE(jobs.StartChunk("job", k).ok());
    auto c = jobs.GetChunk("job", k);
    EXPECT_EQ(c->status, ChunkStatus::kChunk);
    out.push_back(Counts(c->chunk, 3));
    out.back().push_back(c->chunk.mixture_id);
    sleep(static_cast<int>(rng() % 1500));
    EXPECT_TRUE(jobs.ProcessFeedback("job", Feedback(k + 1, k + 1, {1.0f, 2.0f, 3.0f}, {1, 1, 1},
                                                     c->chunk.mixture_id))
                    .ok());
  }
  EXPECT_TRUE(jobs.StartChunk("job", chunks).ok());
  reader.join();
  stop = true;
  return out;
}

TEST(JobManagerTest, ChunksDoNotDependOnTiming) {
  for (int64_t lag : {0, 2}) {
    auto a = RunWithFeedback(lag, 1, 25);
    auto b = RunWithFeedback(lag, 2, 25);
    EXPECT_EQ(a, b) << "lag " << lag;
    // The change sent after chunk k applies at chunk k + 1 + lag.
    for (int k = 0; k < 25; ++k) {
      EXPECT_EQ(a[k].back(), std::max<int64_t>(0, k - lag)) << "lag " << lag << " chunk " << k;
    }
  }
}

TEST(JobManagerTest, DecidedChunksDoNotWaitForARefit) {
  TempDir dir;
  auto job = SaveDynamicJob(dir.str(), 2, 12, 1);
  JobManager jobs(dir.str());
  ASSERT_TRUE(jobs.Adopt(job).ok());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(jobs.SetDriver("job", std::make_shared<StepDriver>(
                                        [](int64_t) {
                                          return std::optional<std::vector<double>>({3.0, 1.0});
                                        },
                                        [released] { released.wait(); }))
                  .ok());
  ASSERT_TRUE(jobs.StartChunk("job", 0).ok());
  ASSERT_TRUE(jobs.ProcessFeedback("job", Feedback(1, 1, {1.0f, 1.0f}, {1, 1})).ok());
  // The refit blocks; chunks 0 and 1 are decided and answer at once.
  EXPECT_EQ(jobs.GetChunk("job", 1)->status, ChunkStatus::kChunk);
  auto start = std::async(std::launch::async, [&] { return jobs.StartChunk("job", 1); });
  EXPECT_EQ(start.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_EQ(jobs.GetChunk("job", 0)->status, ChunkStatus::kChunk);
  release.set_value();
  ASSERT_TRUE(start.get().ok());
  EXPECT_EQ(Counts(jobs.GetChunk("job", 2)->chunk, 2), (std::vector<int64_t>{9, 3}));
}

TEST(JobManagerTest, AFollowerInAnotherManagerWakesOnTheWritersDecision) {
  TempDir dir;
  auto job = SaveDynamicJob(dir.str(), 2, 12, 0);
  JobManager owner(dir.str());
  ASSERT_TRUE(owner.Adopt(job).ok());
  ASSERT_TRUE(owner.SetDriver("job", Averaging()).ok());
  JobManager reader(dir.str());  // its own lock attempt fails: a follower
  auto status = reader.JobStatus("job");
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->writer);
  EXPECT_EQ(reader.ProcessFeedback("job", Feedback(1, 1, {1.0f, 1.0f}, {1, 1})).status().code(),
            StatusCode::kFailedPrecondition);
  auto waited = std::async(std::launch::async, [&] {
    return reader.WaitForChunk("job", 1, Clock::now() + std::chrono::seconds(20), nullptr);
  });
  ASSERT_TRUE(owner.StartChunk("job", 0).ok());
  ASSERT_TRUE(owner.ProcessFeedback("job", Feedback(1, 1, {12.0f, 6.0f}, {6, 6})).ok());
  ASSERT_TRUE(owner.StartChunk("job", 1).ok());
  auto r = waited.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, ChunkStatus::kChunk);
  EXPECT_EQ(Counts(r->chunk, 2), (std::vector<int64_t>{8, 4}));
  // A deadline ends a wait for a chunk nobody decides.
  auto late = reader.WaitForChunk("job", 2, Clock::now() + std::chrono::milliseconds(50), nullptr);
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
}

TEST(JobManagerTest, TenThousandChangesReplayIdentically) {
  TempDir dir;
  const int kChanges = 10000;
  auto job = SaveDynamicJob(dir.str(), 4, 4, 0, 40000);
  {
    JobManager jobs(dir.str());
    ASSERT_TRUE(jobs.Adopt(job).ok());
    ASSERT_TRUE(jobs.SetDriver("job", std::make_shared<StepDriver>([](int64_t step) {
                                 return std::optional<std::vector<double>>(
                                     {1.0 + step % 7, 1.0 + step % 3, 2.0, 0.5 + step % 2});
                               }))
                    .ok());
    for (int k = 0; k < kChanges; ++k) {
      ASSERT_TRUE(jobs.StartChunk("job", k).ok());
      ASSERT_TRUE(jobs.ProcessFeedback("job", Feedback(k + 1, k + 1, {}, {})).ok());
    }
    ASSERT_TRUE(jobs.StartChunk("job", kChanges).ok());
    auto log = jobs.MixtureLog("job");
    ASSERT_TRUE(log.ok());
    EXPECT_EQ(log->size(), static_cast<size_t>(kChanges + 1));
  }
  auto reopened = chunk::Job::Open(Engine::JobDirOf(dir.str(), "job"));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->horizon(), kChanges + 1);
  EXPECT_EQ((*reopened)->feedback_records(), kChanges);
  for (int64_t k = 0; k <= kChanges; ++k) {
    auto a = job->GetChunk(k);
    auto b = (*reopened)->GetChunk(k);
    ASSERT_EQ(a->status, ChunkStatus::kChunk);
    ASSERT_TRUE(SameChunk(a->chunk, b->chunk)) << "chunk " << k;
    ASSERT_EQ(a->chunk.mixture_id, k);
  }
}

}  // namespace
}  // namespace mixtera::engine
