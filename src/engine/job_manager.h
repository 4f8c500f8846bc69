// JobManager: the one owner of a process's live jobs (DESIGN.md §3.8). It answers chunk
// requests, decides a dynamic job's chunks as consumers reach them, and turns training
// feedback into mixture changes through the job's MixingDriver — with typed results, so the
// Python bindings and the server are thin adapters over it.
//
// Live dynamic jobs (docs/mixtures.md, "Live jobs"): chunks from the job's horizon on are
// undecided. StartChunk(k) — a consumer starts chunk k — decides every chunk up to
// k + lag_chunks. Feedback sent from position p (the sender had started chunks < p) yields
// a change that applies at chunk max(p + lag_chunks, horizon when it arrived); deciding that
// chunk waits until the driver has processed the feedback. Drivers run on a background
// pool: requests for decided chunks, and other jobs, never wait for them.
//
//   JobManager jobs(mixtera_dir);
//   MIXTERA_RETURN_IF_ERROR(jobs.Adopt(std::move(job)));          // just executed
//   MIXTERA_RETURN_IF_ERROR(jobs.SetDriver(id, AlgorithmDriver::Create(std::move(ado))));
//   MIXTERA_RETURN_IF_ERROR(jobs.StartChunk(id, 0));
//   MIXTERA_ASSIGN_OR_RETURN(auto reply, jobs.GetChunk(id, 0));
//   MIXTERA_ASSIGN_OR_RETURN(auto result, jobs.ProcessFeedback(id, feedback));
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chunk/job.h"
#include "chunk/job_state.h"
#include "mixtera/result.h"
#include "mixture/dynamic_mixing.h"

namespace mixtera::engine {

// Decides a dynamic job's next mixture from its feedback. Called by one thread at a time.
class MixingDriver {
 public:
  virtual ~MixingDriver() = default;
  // Once, before the first feedback: the job's initial mixture over key ids (the first
  // chunk's counts over chunk_size, float32-rounded as the original).
  virtual Status Start(const std::vector<double>& initial_mixture) = 0;
  // One accepted feedback step (losses and counts may be empty: a step report only).
  // Returns the new weights per key id (at most the job's keys; missing ones are 0), or
  // nullopt to keep the current mixture.
  virtual Result<std::optional<std::vector<double>>> OnFeedback(
      const chunk::FeedbackRecord& feedback) = 0;
};

// Drives a mixture::DynamicMixingAlgorithm: step reports without losses do not reach it.
class AlgorithmDriver final : public MixingDriver {
 public:
  explicit AlgorithmDriver(std::unique_ptr<mixture::DynamicMixingAlgorithm> algorithm)
      : algorithm_(std::move(algorithm)) {}
  Status Start(const std::vector<double>& initial_mixture) override;
  Result<std::optional<std::vector<double>>> OnFeedback(
      const chunk::FeedbackRecord& feedback) override;
  // Runs fn(algorithm) under the driver's lock (to read its state from another thread).
  template <typename Fn>
  auto WithAlgorithm(Fn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    return fn(*algorithm_);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<mixture::DynamicMixingAlgorithm> algorithm_;
};

// A training step's feedback (the original's ClientFeedback) and where its sender stands.
struct ClientFeedback {
  int64_t training_step = 0;
  int64_t mixture_id = -1;      // the largest mixture id the sender received (-1: none)
  std::vector<float> losses;    // per key id: summed loss of the step (may be empty)
  std::vector<int64_t> counts;  // per key id: tokens (or samples) behind the losses
  int64_t dp_group = 0;
  int64_t position = -1;  // chunks the sender had started; -1: unknown (the horizon applies)
};

struct FeedbackResult {
  bool duplicate = false;   // this dp group reported the step already: ignored
  bool ignored = false;     // not a dynamic job: nothing to change
  int64_t applies_at = -1;  // the chunk where a change this feedback causes takes effect
};

struct LiveJobStatus {
  std::string job_id;
  bool dynamic = false;
  bool writer = false;  // this manager holds the job's write lock
  int64_t lag_chunks = 0;
  int64_t horizon = -1;  // the first undecided chunk; -1: all decided
  int64_t planned_chunks = 0;
  int64_t num_mixtures = 0;
  int64_t feedback_records = 0;
  int64_t pending_feedback = 0;  // accepted, not yet processed by the driver
  int64_t driver_errors = 0;
  std::string last_driver_error;
};

struct JobManagerOptions {
  int refit_threads = 2;  // background threads running drivers
};

class JobManager {
 public:
  // `mixtera_dir` holds the jobs (<dir>/jobs/<job id>).
  explicit JobManager(std::string mixtera_dir, JobManagerOptions options = {});
  ~JobManager();  // stops the pool; waiting requests return Cancelled
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Takes a job just executed into the job's folder and its state log for writing.
  // Errors: AlreadyExists (a live job of that id), those of JobStateWriter::Open.
  Status Adopt(std::shared_ptr<chunk::Job> job);
  // The live job `job_id`, opened from its folder on first use. The state log is taken for
  // writing when free; otherwise the job is read-only here and follows the writer.
  // Errors: InvalidArgument (bad id), NotFound, Corruption.
  Result<std::shared_ptr<chunk::Job>> Get(const std::string& job_id);
  // Attaches the driver of a dynamic job (replacing an earlier one) and starts it with the
  // job's initial mixture. Errors: FailedPrecondition (not dynamic); the driver's Start.
  Status SetDriver(const std::string& job_id, std::shared_ptr<MixingDriver> driver);

  Result<chunk::ChunkReply> GetChunk(const std::string& job_id, int64_t k);
  // Blocks while chunk k is undecided (Job::WaitForChunk; across processes for read-only
  // jobs). Errors: Unavailable at the deadline, Cancelled (cancel, or the manager closing).
  Result<chunk::ChunkReply> WaitForChunk(const std::string& job_id, int64_t k,
                                         std::chrono::steady_clock::time_point deadline,
                                         const std::atomic<bool>* cancel);
  // Wakes every waiter of the job to check its cancel flag.
  void WakeWaiters(const std::string& job_id);
  // A consumer starts chunk k: decides chunks up to k + lag_chunks (durably), after the
  // driver has processed the feedback that applies there. A no-op for static jobs, decided
  // chunks, and read-only jobs. Errors: IOError; Cancelled when the manager closes.
  Status StartChunk(const std::string& job_id, int64_t k);
  // Validates and records one step's feedback and queues it for the driver; O(keys).
  // Errors (nothing recorded): InvalidArgument — a negative step, losses and counts of
  // different lengths, more entries than the job has keys, a loss that is not finite, a
  // negative count, a mixture id the job never had, a dp group outside the topology;
  // FailedPrecondition — a read-only job, or a dynamic job without a driver.
  Result<FeedbackResult> ProcessFeedback(const std::string& job_id, const ClientFeedback& feedback);
  Result<std::vector<chunk::MixtureEvent>> MixtureLog(const std::string& job_id);
  Result<LiveJobStatus> JobStatus(const std::string& job_id);
  // Blocks until the job's accepted feedback has all been processed (tests, shutdown).
  Status Drain(const std::string& job_id);

 private:
  struct LiveJob;
  Result<std::shared_ptr<LiveJob>> Find(const std::string& job_id);
  void RefitLoop();
  void RunOne(const std::shared_ptr<LiveJob>& live);

  std::string dir_;
  std::mutex mu_;  // jobs_, work_, closing_
  std::condition_variable work_cv_;
  std::map<std::string, std::shared_ptr<LiveJob>> jobs_;
  std::deque<std::shared_ptr<LiveJob>> work_;  // jobs with queued feedback, not running
  bool closing_ = false;
  std::vector<std::thread> pool_;
};

}  // namespace mixtera::engine
