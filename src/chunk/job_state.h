// A job's live state on disk (DESIGN.md §3.8): the changes made to a job after it was
// executed — mixture changes and the decided horizon — as an append-only record log,
// <job dir>/state.log (formats/record_log.h: framed, checksummed; a torn last record is
// ignored, a changed byte is Corruption naming the file). The definition (job.json,
// index.bin) never changes; Job::Open replays the log, so every process that opens the job
// rebuilds the same state.
//
// Records are JSON objects, applied in order:
//   {"type": "mixture", "start_chunk": C, "weights": [w per key]}   Job::UpdateMixture
//   {"type": "horizon", "horizon": H}                                  Job::SetHorizon
//   {"type": "feedback", "group": g, "step": s, "mixture_id": m,       Job::RecordFeedback
//    "position": p, "losses": [...], "counts": [...]}
//
// One writer at a time: JobStateWriter holds the log's lock (a second writer, in any
// process, gets FailedPrecondition; the lock goes with the writer's process when it exits or
// dies). Readers (Job::Open) never lock.
//
//   MIXTERA_ASSIGN_OR_RETURN(auto job, Job::Open(dir));
//   MIXTERA_ASSIGN_OR_RETURN(auto writer, JobStateWriter::Open(dir, job.get()));
//   MIXTERA_RETURN_IF_ERROR(writer->UpdateMixture(120, weights));  // durable, then applied
//
// Processes that only read a job and must see its changes while they wait (DataLoader
// workers) follow the log with JobStateFollower: it sleeps on inotify until the writer
// appends, then applies the new records.
//
// Thread safety: a writer is used by one thread at a time; so is a follower's
// WaitForChunk (Wake may be called from any thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chunk/job.h"
#include "formats/record_log.h"
#include "mixtera/result.h"

namespace mixtera::chunk {

// One training step's feedback as the job's owner accepted it (engine/job_manager.h).
struct FeedbackRecord {
  int64_t dp_group = 0;
  int64_t training_step = 0;
  int64_t mixture_id = -1;    // the largest mixture id the sender had received (-1: none)
  int64_t position = 0;       // chunks the sender had started: its next chunk's index
  std::vector<float> losses;  // per key id (may be empty: a step report only)
  std::vector<int64_t> counts;
};

// The state log's path in `job_dir`.
std::string JobStateLogPath(const std::string& job_dir);

// Applies the records of `job_dir`'s state log (if there is one) to `job`. Errors:
// Corruption naming the log when a record fails its checksum, does not parse, or does not fit
// the job; IOError.
Status ReplayJobState(const std::string& job_dir, Job* job);

class JobStateWriter {
 public:
  // Takes the write lock of `job_dir`'s state log (creating the log), and brings `job` (open
  // on `job_dir`; not owned, must outlive the writer) up to the log's records written since
  // it was opened. Errors: FailedPrecondition when another writer holds the lock; those of
  // ReplayJobState.
  static Result<std::unique_ptr<JobStateWriter>> Open(const std::string& job_dir, Job* job);

  // Records the change (synced to disk) and applies it to the job. Errors: InvalidArgument
  // when the job refuses the change (nothing is recorded); IOError.
  Status UpdateMixture(int64_t at_chunk, std::vector<double> weights);
  Status SetHorizon(int64_t horizon);
  // A decision as one commit (one sync): the mixture change `change` (if any), then the
  // horizon. Errors: as UpdateMixture, SetHorizon (nothing is recorded).
  Status Decide(std::optional<MixtureEvent> change, int64_t horizon);
  // Records a feedback step (made durable by the next commit) and counts it in the job.
  Status AppendFeedback(const FeedbackRecord& feedback);

  // Records in the log.
  int64_t num_records() const { return num_records_; }

 private:
  JobStateWriter(std::unique_ptr<formats::RecordLogWriter> log, Job* job, int64_t records)
      : log_(std::move(log)), job_(job), num_records_(records) {}
  Status Commit(const std::string& record);

  std::unique_ptr<formats::RecordLogWriter> log_;
  Job* job_;
  int64_t num_records_;
};

class JobStateFollower {
 public:
  // Watches `job_dir` (inotify) and applies the state-log records that `job` (open on
  // `job_dir`; not owned, must outlive the follower) has not applied yet. Errors: IOError
  // (no inotify), those of ReplayJobState.
  static Result<std::unique_ptr<JobStateFollower>> Open(const std::string& job_dir, Job* job);
  ~JobStateFollower();
  JobStateFollower(const JobStateFollower&) = delete;
  JobStateFollower& operator=(const JobStateFollower&) = delete;

  // Applies the records appended since the last call. Errors: Corruption naming the log.
  Status CatchUp();
  // Job::WaitForChunk across processes: while chunk k is not decided, sleeps until the log
  // changes (no polling), `deadline` passes (Unavailable naming the chunk), or `*cancel` is
  // set and Wake() called (Cancelled).
  Result<ChunkReply> WaitForChunk(int64_t k, std::chrono::steady_clock::time_point deadline,
                                  const std::atomic<bool>* cancel);
  // Wakes a WaitForChunk to check its cancel flag.
  void Wake();

 private:
  JobStateFollower(std::string job_dir, Job* job, int inotify_fd, int wake_fd)
      : job_dir_(std::move(job_dir)), job_(job), inotify_fd_(inotify_fd), wake_fd_(wake_fd) {}

  std::string job_dir_;
  Job* job_;
  int inotify_fd_;
  int wake_fd_;
  int64_t offset_ = 0;  // where the next unread record starts
  std::mutex mu_;       // CatchUp
};

}  // namespace mixtera::chunk
