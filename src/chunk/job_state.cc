#include "chunk/job_state.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/macros.h"
#include "base/strings.h"

namespace mixtera::chunk {
namespace {

using nlohmann::json;

// Applies state record `index` of `path` to `job`. Errors: Corruption naming both.
Status ApplyRecord(const std::string& record, const std::string& path, size_t index, Job* job) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption(StrCat(path, ": record ", index, ": ", why));
  };
  json j;
  try {
    j = json::parse(record);
  } catch (const json::exception& e) {
    return bad(StrCat("not JSON (", e.what(), ")"));
  }
  Status applied;
  try {
    const std::string type = j.at("type").get<std::string>();
    if (type == "mixture") {
      applied = job->UpdateMixture(j.at("start_chunk").get<int64_t>(),
                                   j.at("weights").get<std::vector<double>>());
    } else if (type == "horizon") {
      job->SetHorizon(j.at("horizon").get<int64_t>());
    } else if (type == "feedback") {
      job->RecordFeedback(j.at("group").get<int64_t>(), j.at("step").get<int64_t>());
    } else {
      return bad(StrCat("unknown record type '", type, "'"));
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  if (!applied.ok()) return bad(StrCat("does not fit the job: ", applied.message()));
  return Status::OK();
}

// Applies records[i] for i >= from to `job`; records[0] is the log's record `first`.
Status ApplyFrom(const std::vector<std::string>& records, int64_t first, int64_t from,
                 const std::string& path, Job* job) {
  for (int64_t i = std::max<int64_t>(from, first); i < first + static_cast<int64_t>(records.size());
       ++i) {
    MIXTERA_RETURN_IF_ERROR(ApplyRecord(records[i - first], path, i, job));
    job->set_applied_state_records(i + 1);
  }
  return Status::OK();
}

// Applies records [job->applied_state_records(), records.size()) to `job`.
Status ApplyNew(const std::vector<std::string>& records, const std::string& path, Job* job) {
  return ApplyFrom(records, 0, job->applied_state_records(), path, job);
}

}  // namespace

std::string JobStateLogPath(const std::string& job_dir) { return job_dir + "/state.log"; }

Status ReplayJobState(const std::string& job_dir, Job* job) {
  const std::string path = JobStateLogPath(job_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::OK();
  MIXTERA_ASSIGN_OR_RETURN(formats::RecordLogContents contents, formats::ReadRecordLog(path));
  return ApplyNew(contents.records, path, job);
}

Result<std::unique_ptr<JobStateWriter>> JobStateWriter::Open(const std::string& job_dir, Job* job) {
  const std::string path = JobStateLogPath(job_dir);
  MIXTERA_ASSIGN_OR_RETURN(auto log, formats::RecordLogWriter::Open(path));
  MIXTERA_RETURN_IF_ERROR(ApplyNew(log->existing_records(), path, job));
  const int64_t records = static_cast<int64_t>(log->existing_records().size());
  return std::unique_ptr<JobStateWriter>(new JobStateWriter(std::move(log), job, records));
}

Status JobStateWriter::Commit(const std::string& record) {
  MIXTERA_RETURN_IF_ERROR(log_->Append(record));
  MIXTERA_RETURN_IF_ERROR(log_->Sync());
  ++num_records_;
  return Status::OK();
}

Status JobStateWriter::UpdateMixture(int64_t at_chunk, std::vector<double> weights) {
  MIXTERA_RETURN_IF_ERROR(job_->CheckMixtureUpdate(at_chunk, weights));
  MIXTERA_RETURN_IF_ERROR(
      Commit(json({{"type", "mixture"}, {"start_chunk", at_chunk}, {"weights", weights}}).dump()));
  MIXTERA_RETURN_IF_ERROR(job_->UpdateMixture(at_chunk, std::move(weights)));
  job_->set_applied_state_records(num_records_);
  return Status::OK();
}

Status JobStateWriter::Decide(std::optional<MixtureEvent> change, int64_t horizon) {
  if (horizon < -1) {
    return Status::InvalidArgument(StrCat("horizon ", horizon, " (must be >= -1; -1: none)"));
  }
  if (change)
    MIXTERA_RETURN_IF_ERROR(job_->CheckMixtureUpdate(change->start_chunk, change->weights));
  if (change) {
    MIXTERA_RETURN_IF_ERROR(log_->Append(json({{"type", "mixture"},
                                               {"start_chunk", change->start_chunk},
                                               {"weights", change->weights}})
                                             .dump()));
    ++num_records_;
  }
  MIXTERA_RETURN_IF_ERROR(Commit(json({{"type", "horizon"}, {"horizon", horizon}}).dump()));
  if (change)
    MIXTERA_RETURN_IF_ERROR(job_->UpdateMixture(change->start_chunk, std::move(change->weights)));
  job_->SetHorizon(horizon);
  job_->set_applied_state_records(num_records_);
  return Status::OK();
}

Status JobStateWriter::AppendFeedback(const FeedbackRecord& f) {
  MIXTERA_RETURN_IF_ERROR(log_->Append(json({{"type", "feedback"},
                                             {"group", f.dp_group},
                                             {"step", f.training_step},
                                             {"mixture_id", f.mixture_id},
                                             {"position", f.position},
                                             {"losses", f.losses},
                                             {"counts", f.counts}})
                                           .dump()));
  ++num_records_;
  job_->RecordFeedback(f.dp_group, f.training_step);
  job_->set_applied_state_records(num_records_);
  return Status::OK();
}

Status JobStateWriter::SetHorizon(int64_t horizon) {
  if (horizon < -1) {
    return Status::InvalidArgument(StrCat("horizon ", horizon, " (must be >= -1; -1: none)"));
  }
  MIXTERA_RETURN_IF_ERROR(Commit(json({{"type", "horizon"}, {"horizon", horizon}}).dump()));
  job_->SetHorizon(horizon);
  job_->set_applied_state_records(num_records_);
  return Status::OK();
}

Result<std::unique_ptr<JobStateFollower>> JobStateFollower::Open(const std::string& job_dir,
                                                                 Job* job) {
  const int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in < 0) return Status::IOError(StrCat("inotify_init1: ", std::strerror(errno)));
  // Watch first, then read: no append between the two goes unnoticed.
  if (::inotify_add_watch(in, job_dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    const int err = errno;
    ::close(in);
    return Status::IOError(StrCat(job_dir, ": inotify_add_watch: ", std::strerror(err)));
  }
  const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    const int err = errno;
    ::close(in);
    return Status::IOError(StrCat("eventfd: ", std::strerror(err)));
  }
  std::unique_ptr<JobStateFollower> follower(new JobStateFollower(job_dir, job, in, wake));
  MIXTERA_RETURN_IF_ERROR(follower->CatchUp());
  return follower;
}

JobStateFollower::~JobStateFollower() {
  ::close(inotify_fd_);
  ::close(wake_fd_);
}

Status JobStateFollower::CatchUp() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string path = JobStateLogPath(job_dir_);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::OK();
  // The first read covers the records Job::Open already applied (counted by the job).
  const int64_t first = offset_ == 0 ? 0 : job_->applied_state_records();
  MIXTERA_ASSIGN_OR_RETURN(formats::RecordLogContents contents,
                           formats::ReadRecordLogFrom(path, offset_));
  MIXTERA_RETURN_IF_ERROR(
      ApplyFrom(contents.records, first, job_->applied_state_records(), path, job_));
  offset_ = contents.valid_bytes;
  return Status::OK();
}

Result<ChunkReply> JobStateFollower::WaitForChunk(int64_t k,
                                                  std::chrono::steady_clock::time_point deadline,
                                                  const std::atomic<bool>* cancel) {
  while (true) {
    MIXTERA_ASSIGN_OR_RETURN(ChunkReply reply, job_->GetChunk(k));
    if (reply.status != ChunkStatus::kNotYet) return reply;
    if (cancel != nullptr && cancel->load()) {
      return Status::Cancelled(
          StrCat("waiting for chunk ", k, " of job ", job_->definition().job_id));
    }
    int timeout_ms = -1;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return Status::Unavailable(StrCat("chunk ", k, " of job ", job_->definition().job_id,
                                          " was not decided before the deadline"));
      }
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30));
    }
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
      return Status::IOError(StrCat("poll: ", std::strerror(errno)));
    }
    char buf[4096];
    while (::read(inotify_fd_, buf, sizeof(buf)) > 0) {
    }
    uint64_t wakes = 0;
    if (::read(wake_fd_, &wakes, sizeof(wakes)) < 0) wakes = 0;
    MIXTERA_RETURN_IF_ERROR(CatchUp());
  }
}

void JobStateFollower::Wake() {
  const uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) < 0) {
    // A full counter already wakes the waiter.
  }
}

}  // namespace mixtera::chunk
