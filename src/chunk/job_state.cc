#include "chunk/job_state.h"

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
    } else {
      return bad(StrCat("unknown record type '", type, "'"));
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  if (!applied.ok()) return bad(StrCat("does not fit the job: ", applied.message()));
  return Status::OK();
}

// Applies records [job->applied_state_records(), records.size()) to `job`.
Status ApplyNew(const std::vector<std::string>& records, const std::string& path, Job* job) {
  for (size_t i = static_cast<size_t>(job->applied_state_records()); i < records.size(); ++i) {
    MIXTERA_RETURN_IF_ERROR(ApplyRecord(records[i], path, i, job));
    job->set_applied_state_records(static_cast<int64_t>(i) + 1);
  }
  return Status::OK();
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

Status JobStateWriter::SetHorizon(int64_t horizon) {
  if (horizon < -1) {
    return Status::InvalidArgument(StrCat("horizon ", horizon, " (must be >= -1; -1: none)"));
  }
  MIXTERA_RETURN_IF_ERROR(Commit(json({{"type", "horizon"}, {"horizon", horizon}}).dump()));
  job_->SetHorizon(horizon);
  job_->set_applied_state_records(num_records_);
  return Status::OK();
}

}  // namespace mixtera::chunk
