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
//
// One writer at a time: JobStateWriter holds the log's lock (a second writer, in any
// process, gets FailedPrecondition; the lock goes with the writer's process when it exits or
// dies). Readers (Job::Open) never lock.
//
//   MIXTERA_ASSIGN_OR_RETURN(auto job, Job::Open(dir));
//   MIXTERA_ASSIGN_OR_RETURN(auto writer, JobStateWriter::Open(dir, job.get()));
//   MIXTERA_RETURN_IF_ERROR(writer->UpdateMixture(120, weights));  // durable, then applied
//
// Thread safety: a writer is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chunk/job.h"
#include "formats/record_log.h"
#include "mixtera/result.h"

namespace mixtera::chunk {

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

}  // namespace mixtera::chunk
