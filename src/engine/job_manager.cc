#include "engine/job_manager.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "base/logging.h"
#include "base/macros.h"
#include "base/strings.h"
#include "engine/engine.h"

namespace mixtera::engine {

Status AlgorithmDriver::Start(const std::vector<double>& initial_mixture) {
  std::lock_guard<std::mutex> lock(mu_);
  algorithm_->set_initial_mixture(initial_mixture);
  return Status::OK();
}

Result<std::optional<std::vector<double>>> AlgorithmDriver::OnFeedback(
    const chunk::FeedbackRecord& feedback) {
  if (feedback.losses.empty()) return std::optional<std::vector<double>>();
  std::lock_guard<std::mutex> lock(mu_);
  return algorithm_->ProcessLosses(feedback.losses, feedback.counts,
                                   std::max<int64_t>(feedback.mixture_id, 0));
}

struct JobManager::LiveJob {
  std::string job_id;
  std::string dir;
  std::shared_ptr<chunk::Job> job;
  // Exactly one of the two: this process writes the job's state, or follows its writer.
  std::unique_ptr<chunk::JobStateWriter> writer;
  std::unique_ptr<chunk::JobStateFollower> follower;
  std::mutex follow_mu;  // one follower wait at a time

  // Guarded by mu.
  std::mutex mu;
  std::condition_variable changed;
  std::shared_ptr<MixingDriver> driver;
  struct Queued {
    chunk::FeedbackRecord record;
    int64_t applies_at = 0;
  };
  std::deque<Queued> queue;                        // accepted, waiting for the driver
  std::multiset<int64_t> pending_at;               // applies_at of queued and running feedback
  bool running = false;                            // a pool thread runs the driver
  std::map<int64_t, std::vector<double>> changes;  // decided by the driver, not yet applied
  int64_t driver_errors = 0;
  std::string last_driver_error;
  bool closing = false;
};

JobManager::JobManager(std::string mixtera_dir, JobManagerOptions options)
    : dir_(std::move(mixtera_dir)) {
  const int threads = std::max(1, options.refit_threads);
  for (int i = 0; i < threads; ++i) pool_.emplace_back([this] { RefitLoop(); });
}

JobManager::~JobManager() {
  std::vector<std::shared_ptr<LiveJob>> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    for (auto& [id, live] : jobs_) jobs.push_back(live);
  }
  work_cv_.notify_all();
  for (auto& live : jobs) {
    {
      std::lock_guard<std::mutex> lock(live->mu);
      live->closing = true;
    }
    live->changed.notify_all();
    live->job->WakeWaiters();
    if (live->follower) live->follower->Wake();
  }
  for (auto& t : pool_) t.join();
}

Status JobManager::Adopt(std::shared_ptr<chunk::Job> job) {
  auto live = std::make_shared<LiveJob>();
  live->job_id = job->definition().job_id;
  live->dir = Engine::JobDirOf(dir_, live->job_id);
  live->job = std::move(job);
  MIXTERA_ASSIGN_OR_RETURN(live->writer, chunk::JobStateWriter::Open(live->dir, live->job.get()));
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = jobs_.emplace(live->job_id, live);
  if (!inserted) {
    return Status::AlreadyExists(StrCat("job '", live->job_id, "' is already live"));
  }
  return Status::OK();
}

Result<std::shared_ptr<JobManager::LiveJob>> JobManager::Find(const std::string& job_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) return it->second;
  }
  MIXTERA_RETURN_IF_ERROR(chunk::ValidateJobId(job_id));
  auto live = std::make_shared<LiveJob>();
  live->job_id = job_id;
  live->dir = Engine::JobDirOf(dir_, job_id);
  MIXTERA_ASSIGN_OR_RETURN(std::unique_ptr<chunk::Job> job, chunk::Job::Open(live->dir));
  live->job = std::move(job);
  Result<std::unique_ptr<chunk::JobStateWriter>> writer =
      chunk::JobStateWriter::Open(live->dir, live->job.get());
  if (writer.ok()) {
    live->writer = std::move(writer).value();
  } else if (writer.status().code() == StatusCode::kFailedPrecondition) {
    MIXTERA_ASSIGN_OR_RETURN(live->follower,
                             chunk::JobStateFollower::Open(live->dir, live->job.get()));
  } else {
    return writer.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = jobs_.emplace(job_id, live);
  return it->second;  // a racing opener's job wins; ours closes
}

Result<std::shared_ptr<chunk::Job>> JobManager::Get(const std::string& job_id) {
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  return live->job;
}

Status JobManager::SetDriver(const std::string& job_id, std::shared_ptr<MixingDriver> driver) {
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  if (!live->job->dynamic()) {
    return Status::FailedPrecondition(
        StrCat("job '", job_id, "' does not have a dynamic mixture; only those take a driver"));
  }
  const std::vector<int64_t> counts = live->job->InitialCounts();
  double total = 0;
  for (int64_t c : counts) total += static_cast<double>(c);
  std::vector<double> initial(counts.size(), 0.0);
  for (size_t i = 0; i < counts.size() && total > 0; ++i) {
    initial[i] = static_cast<double>(static_cast<float>(static_cast<double>(counts[i]) / total));
  }
  MIXTERA_RETURN_IF_ERROR(driver->Start(initial));
  std::unique_lock<std::mutex> lock(live->mu);
  live->changed.wait(lock, [&] { return !live->running || live->closing; });
  live->driver = std::move(driver);
  return Status::OK();
}

Result<chunk::ChunkReply> JobManager::GetChunk(const std::string& job_id, int64_t k) {
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  if (live->follower) MIXTERA_RETURN_IF_ERROR(live->follower->CatchUp());
  return live->job->GetChunk(k);
}

Result<chunk::ChunkReply> JobManager::WaitForChunk(const std::string& job_id, int64_t k,
                                                   std::chrono::steady_clock::time_point deadline,
                                                   const std::atomic<bool>* cancel) {
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  if (live->follower) {
    std::lock_guard<std::mutex> lock(live->follow_mu);
    return live->follower->WaitForChunk(k, deadline, cancel);
  }
  return live->job->WaitForChunk(k, deadline, cancel);
}

void JobManager::WakeWaiters(const std::string& job_id) {
  std::shared_ptr<LiveJob> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    live = it->second;
  }
  live->job->WakeWaiters();
  if (live->follower) live->follower->Wake();
}

Status JobManager::StartChunk(const std::string& job_id, int64_t k) {
  if (k < 0) return Status::InvalidArgument(StrCat("chunk index ", k, " is negative"));
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  if (!live->job->dynamic() || live->writer == nullptr) return Status::OK();
  const int64_t target = k + live->job->lag_chunks() + 1;  // the new horizon
  std::unique_lock<std::mutex> lock(live->mu);
  const int64_t horizon = live->job->horizon();
  if (horizon < 0 || horizon >= target) return Status::OK();
  // Feedback that applies before the new horizon must have reached the driver's decision.
  live->changed.wait(lock, [&] {
    return live->closing || live->pending_at.empty() || *live->pending_at.begin() >= target;
  });
  if (live->closing) {
    return Status::Cancelled(StrCat("job '", job_id, "': the job manager is closing"));
  }
  std::vector<chunk::MixtureEvent> changes;
  while (!live->changes.empty() && live->changes.begin()->first < target) {
    auto node = live->changes.extract(live->changes.begin());
    changes.push_back({std::max(node.key(), horizon), std::move(node.mapped())});
  }
  // Of changes at the same chunk (late feedback moved to the horizon) the last one counts.
  for (size_t i = 0; i + 1 < changes.size();) {
    if (changes[i].start_chunk == changes[i + 1].start_chunk) {
      changes.erase(changes.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    std::optional<chunk::MixtureEvent> change(std::move(changes[i]));
    const bool last = i + 1 == changes.size();
    if (!last) {
      MIXTERA_RETURN_IF_ERROR(
          live->writer->UpdateMixture(change->start_chunk, std::move(change->weights)));
    } else {
      return live->writer->Decide(std::move(change), target);
    }
  }
  return live->writer->Decide(std::nullopt, target);
}

Result<FeedbackResult> JobManager::ProcessFeedback(const std::string& job_id,
                                                   const ClientFeedback& f) {
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  const chunk::Job& job = *live->job;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(StrCat("feedback for job '", job_id, "': ", why));
  };
  if (f.training_step < 0) return bad(StrCat("training step ", f.training_step, " is negative"));
  const int64_t groups = job.definition().topology.dp_groups;
  if (f.dp_group < 0 || f.dp_group >= groups) {
    return bad(StrCat("dp group ", f.dp_group, " is outside the job's ", groups, " dp groups"));
  }
  if (f.losses.size() != f.counts.size()) {
    return bad(StrCat(f.losses.size(), " losses but ", f.counts.size(), " counts"));
  }
  const size_t keys = job.definition().keys.size();
  if (f.losses.size() > keys) {
    return bad(StrCat("key id ", f.losses.size() - 1, " is beyond the job's ", keys,
                      " keys (ids 0..", keys - 1, ")"));
  }
  for (size_t i = 0; i < f.losses.size(); ++i) {
    if (!std::isfinite(f.losses[i])) return bad(StrCat("the loss of key id ", i, " is not finite"));
    if (f.counts[i] < 0) return bad(StrCat("the count of key id ", i, " is negative"));
  }
  if (f.mixture_id < -1 || f.mixture_id >= job.num_mixtures()) {
    return bad(StrCat("mixture id ", f.mixture_id, " was never sent (the job has ",
                      job.num_mixtures(), " mixtures)"));
  }
  if (f.position < -1) return bad(StrCat("position ", f.position, " is negative"));
  FeedbackResult result;
  if (!job.dynamic()) {
    result.ignored = true;
    return result;
  }
  if (live->writer == nullptr) {
    return Status::FailedPrecondition(
        StrCat("job '", job_id, "' is written by another process; send feedback to that process"));
  }
  std::unique_lock<std::mutex> lock(live->mu);
  if (live->driver == nullptr) {
    return Status::FailedPrecondition(
        StrCat("job '", job_id, "' has no mixing algorithm attached (DynamicMixture.mixing_alg)"));
  }
  if (f.training_step <= job.last_feedback_step(f.dp_group)) {
    result.duplicate = true;
    return result;
  }
  chunk::FeedbackRecord record{f.dp_group, f.training_step, f.mixture_id,
                               f.position, f.losses,        f.counts};
  MIXTERA_RETURN_IF_ERROR(live->writer->AppendFeedback(record));
  const int64_t horizon = std::max<int64_t>(0, job.horizon());
  result.applies_at = f.position < 0 ? horizon : std::max(horizon, f.position + job.lag_chunks());
  live->pending_at.insert(result.applies_at);
  live->queue.push_back({std::move(record), result.applies_at});
  if (!live->running && live->queue.size() == 1) {
    lock.unlock();
    {
      std::lock_guard<std::mutex> pool_lock(mu_);
      work_.push_back(live);
    }
    work_cv_.notify_one();
  }
  return result;
}

void JobManager::RefitLoop() {
  while (true) {
    std::shared_ptr<LiveJob> live;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return closing_ || !work_.empty(); });
      if (closing_) return;
      live = std::move(work_.front());
      work_.pop_front();
    }
    RunOne(live);
  }
}

void JobManager::RunOne(const std::shared_ptr<LiveJob>& live) {
  std::unique_lock<std::mutex> lock(live->mu);
  if (live->running || live->queue.empty()) return;
  live->running = true;
  while (!live->queue.empty() && !live->closing) {
    LiveJob::Queued item = std::move(live->queue.front());
    live->queue.pop_front();
    std::shared_ptr<MixingDriver> driver = live->driver;
    lock.unlock();
    Result<std::optional<std::vector<double>>> next = driver->OnFeedback(item.record);
    std::optional<std::vector<double>> weights;
    std::string error;
    if (!next.ok()) {
      error = next.status().ToString();
    } else if (*next) {
      weights = std::move(**next);
      const size_t keys = live->job->definition().keys.size();
      double sum = 0;
      bool finite = weights->size() <= keys;
      for (double w : *weights) {
        finite = finite && std::isfinite(w) && w >= 0;
        sum += w;
      }
      if (!finite || !(sum > 0)) {
        error = StrCat("the algorithm returned an invalid mixture (", weights->size(),
                       " weights for ", keys, " keys, sum ", sum, ")");
        weights.reset();
      } else {
        weights->resize(keys, 0.0);
        for (double& w : *weights) w /= sum;
      }
    }
    lock.lock();
    if (!error.empty()) {
      ++live->driver_errors;
      live->last_driver_error = error;
      LogWarning(StrCat("job '", live->job_id, "', training step ", item.record.training_step,
                        ": the mixture stays: ", error));
    } else if (weights) {
      live->changes[item.applies_at] = std::move(*weights);
    }
    live->pending_at.erase(live->pending_at.find(item.applies_at));
    live->changed.notify_all();
  }
  live->running = false;
  live->changed.notify_all();
}

Result<std::vector<chunk::MixtureEvent>> JobManager::MixtureLog(const std::string& job_id) {
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  if (live->follower) MIXTERA_RETURN_IF_ERROR(live->follower->CatchUp());
  std::lock_guard<std::mutex> lock(live->mu);
  return live->job->MixtureLogCopy();
}

Result<LiveJobStatus> JobManager::JobStatus(const std::string& job_id) {
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  if (live->follower) MIXTERA_RETURN_IF_ERROR(live->follower->CatchUp());
  LiveJobStatus s;
  s.job_id = job_id;
  s.dynamic = live->job->dynamic();
  s.writer = live->writer != nullptr;
  s.lag_chunks = live->job->lag_chunks();
  s.horizon = live->job->horizon();
  s.planned_chunks = live->job->num_planned_chunks();
  s.num_mixtures = live->job->num_mixtures();
  s.feedback_records = live->job->feedback_records();
  std::lock_guard<std::mutex> lock(live->mu);
  s.pending_feedback = static_cast<int64_t>(live->pending_at.size());
  s.driver_errors = live->driver_errors;
  s.last_driver_error = live->last_driver_error;
  return s;
}

Status JobManager::Drain(const std::string& job_id) {
  MIXTERA_ASSIGN_OR_RETURN(auto live, Find(job_id));
  std::unique_lock<std::mutex> lock(live->mu);
  live->changed.wait(lock, [&] { return live->closing || live->pending_at.empty(); });
  return live->closing ? Status::Cancelled("the job manager is closing") : Status::OK();
}

}  // namespace mixtera::engine
