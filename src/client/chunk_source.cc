#include "client/chunk_source.h"

#include <chrono>
#include <utility>

#include "base/macros.h"
#include "chunk/job_state.h"
#include "engine/job_manager.h"

namespace mixtera::client {
namespace {

constexpr auto kNoDeadline = std::chrono::steady_clock::time_point::max();

class InMemorySource final : public ChunkSource {
 public:
  explicit InMemorySource(std::shared_ptr<const chunk::Job> job) : job_(std::move(job)) {}
  const chunk::Job& job() const override { return *job_; }
  Status StartChunk(int64_t) override { return Status::OK(); }
  Result<chunk::ChunkReply> WaitForChunk(int64_t k, const std::atomic<bool>* cancel) override {
    return job_->WaitForChunk(k, kNoDeadline, cancel);
  }
  void Wake() override { job_->WakeWaiters(); }

 private:
  std::shared_ptr<const chunk::Job> job_;
};

class ManagedSource final : public ChunkSource {
 public:
  ManagedSource(std::shared_ptr<engine::JobManager> jobs, std::string job_id,
                std::shared_ptr<const chunk::Job> job, bool decide)
      : jobs_(std::move(jobs)), job_id_(std::move(job_id)), job_(std::move(job)), decide_(decide) {}
  const chunk::Job& job() const override { return *job_; }
  Status StartChunk(int64_t k) override {
    return decide_ ? jobs_->StartChunk(job_id_, k) : Status::OK();
  }
  Result<chunk::ChunkReply> WaitForChunk(int64_t k, const std::atomic<bool>* cancel) override {
    return jobs_->WaitForChunk(job_id_, k, kNoDeadline, cancel);
  }
  void Wake() override { jobs_->WakeWaiters(job_id_); }

 private:
  std::shared_ptr<engine::JobManager> jobs_;
  std::string job_id_;
  std::shared_ptr<const chunk::Job> job_;
  bool decide_;
};

class FollowingSource final : public ChunkSource {
 public:
  FollowingSource(std::unique_ptr<chunk::Job> job,
                  std::unique_ptr<chunk::JobStateFollower> follower)
      : job_(std::move(job)), follower_(std::move(follower)) {}
  const chunk::Job& job() const override { return *job_; }
  Status StartChunk(int64_t) override { return Status::OK(); }
  Result<chunk::ChunkReply> WaitForChunk(int64_t k, const std::atomic<bool>* cancel) override {
    if (follower_ == nullptr) return job_->WaitForChunk(k, kNoDeadline, cancel);
    return follower_->WaitForChunk(k, kNoDeadline, cancel);
  }
  void Wake() override {
    job_->WakeWaiters();
    if (follower_ != nullptr) follower_->Wake();
  }

 private:
  std::unique_ptr<chunk::Job> job_;
  std::unique_ptr<chunk::JobStateFollower> follower_;  // dynamic jobs only
};

}  // namespace

std::unique_ptr<ChunkSource> JobChunkSource(std::shared_ptr<const chunk::Job> job) {
  return std::make_unique<InMemorySource>(std::move(job));
}

Result<std::unique_ptr<ChunkSource>> ManagedChunkSource(std::shared_ptr<engine::JobManager> jobs,
                                                        const std::string& job_id, bool decide) {
  MIXTERA_ASSIGN_OR_RETURN(std::shared_ptr<chunk::Job> job, jobs->Get(job_id));
  return std::unique_ptr<ChunkSource>(
      std::make_unique<ManagedSource>(std::move(jobs), job_id, std::move(job), decide));
}

Result<std::unique_ptr<ChunkSource>> FollowingChunkSource(const std::string& job_dir) {
  MIXTERA_ASSIGN_OR_RETURN(std::unique_ptr<chunk::Job> job, chunk::Job::Open(job_dir));
  std::unique_ptr<chunk::JobStateFollower> follower;
  if (job->dynamic()) {
    MIXTERA_ASSIGN_OR_RETURN(follower, chunk::JobStateFollower::Open(job_dir, job.get()));
  }
  return std::unique_ptr<ChunkSource>(
      std::make_unique<FollowingSource>(std::move(job), std::move(follower)));
}

}  // namespace mixtera::client
