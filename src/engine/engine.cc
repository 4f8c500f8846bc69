#include "engine/engine.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/macros.h"
#include "base/strings.h"
#include "formats/file_lock.h"
#include "mixture/mixture_parser.h"
#include "tokenize/tokenizer.h"

namespace mixtera::engine {

namespace fs = std::filesystem;

Engine::Engine(std::string dir, std::unique_ptr<store::MetadataStore> store)
    : dir_(std::move(dir)), store_(std::move(store)) {}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& dir, const EngineOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return Status::IOError(StrCat("cannot create Mixtera directory '", dir, "': ", ec.message()));
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument(StrCat("'", dir, "' is not a directory"));
  }
  std::string abs_dir = fs::absolute(dir).lexically_normal().string();
  if (abs_dir.size() > 1 && abs_dir.back() == '/') abs_dir.pop_back();
  fs::create_directories(abs_dir + "/offsets", ec);
  if (ec) return Status::IOError(StrCat("cannot create '", abs_dir, "/offsets': ", ec.message()));
  // Opening (and on first use creating) the store is serialized between processes, so that
  // an empty store file seen here is never one another process is creating right now: it is
  // what a crash before DuckDB's first write leaves, and is replaced by a new store.
  MIXTERA_ASSIGN_OR_RETURN(
      formats::FileLock open_lock,
      formats::FileLock::Acquire(abs_dir + "/mixtera.lock", std::chrono::seconds(60)));
  const std::string db_path = abs_dir + "/mixtera.duckdb";
  struct stat db_stat;
  if (::stat(db_path.c_str(), &db_stat) == 0 && S_ISREG(db_stat.st_mode) && db_stat.st_size == 0) {
    std::remove(db_path.c_str());
    std::remove((db_path + ".wal").c_str());
  }
  Result<std::unique_ptr<store::MetadataStore>> opened =
      store::MetadataStore::Open(db_path, options.store);
  if (!opened.ok()) {
    const Status& st = opened.status();
    if (st.message().find("Could not set lock") != std::string::npos) {
      return Status::Unavailable(
          StrCat("'", abs_dir,
                 "' is in use by another process: one process at a time opens a "
                 "Mixtera directory's store (close the other client, or wait for the other "
                 "command to finish). ",
                 st.message()));
    }
    return st;
  }
  std::unique_ptr<store::MetadataStore> store = std::move(*opened);
  std::unique_ptr<Engine> engine(new Engine(abs_dir, std::move(store)));
  engine->options_ = options;
  // A store that was just created has no datasets, so every offsets folder is stale; those
  // are replaced when their dataset id is registered, so only existing stores are swept.
  if (!engine->store_->created()) MIXTERA_RETURN_IF_ERROR(engine->RemoveStaleOffsets());
  return engine;
}

std::string Engine::JobDirOf(const std::string& dir, const std::string& job_id) {
  return StrCat(dir, "/jobs/", job_id);
}

Result<std::unique_ptr<chunk::Job>> Engine::PlanQuery(const std::string& job_id,
                                                      const model::Predicate& where,
                                                      const model::MixtureSpec& mixture,
                                                      JobBuildStats* stats,
                                                      const JobOptions& job_options) {
  return BuildJob(
      store_.get(), job_id, where, mixture, options_.query, job_options,
      [this](int64_t dataset_id) { return OffsetsDir(dataset_id); }, stats);
}

Result<std::unique_ptr<chunk::Job>> Engine::ExecuteQuery(const std::string& job_id,
                                                         const model::Predicate& where,
                                                         const model::MixtureSpec& mixture,
                                                         const JobOptions& job_options,
                                                         JobBuildStats* stats) {
  MIXTERA_RETURN_IF_ERROR(chunk::ValidateJobId(job_id));
  std::error_code ec;
  if (fs::exists(JobDir(job_id), ec)) {
    return Status::AlreadyExists(StrCat("job '", job_id, "' already exists in ", dir_,
                                        " (job ids are unique per Mixtera directory)"));
  }
  MIXTERA_ASSIGN_OR_RETURN(
      auto job, BuildJob(
                    store_.get(), job_id, where, mixture, options_.query, job_options,
                    [this](int64_t dataset_id) { return OffsetsDir(dataset_id); }, stats));
  // A live dynamic job decides its chunks as consumers reach them (JobManager).
  if (job->dynamic()) job->SetHorizon(0);
  MIXTERA_RETURN_IF_ERROR(job->Save(JobDir(job_id)));
  return job;
}

std::string Engine::OffsetsDir(int64_t dataset_id) const {
  return StrCat(dir_, "/offsets/", dataset_id);
}

Status Engine::RemoveStaleOffsets() {
  MIXTERA_ASSIGN_OR_RETURN(auto datasets, store_->ListDatasets());
  std::set<std::string> live;
  for (const auto& d : datasets) live.insert(std::to_string(d.dataset_id));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ + "/offsets", ec)) {
    if (!live.count(entry.path().filename().string())) fs::remove_all(entry.path(), ec);
  }
  // Staging folders are "<pid>-<n>"; those of processes that are gone are leftovers.
  for (const auto& entry : fs::directory_iterator(dir_ + "/.staging", ec)) {
    std::string name = entry.path().filename().string();
    long pid = std::strtol(name.c_str(), nullptr, 10);
    if (pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      fs::remove_all(entry.path(), ec);
    }
  }
  return Status::OK();
}

Result<std::string> Engine::MakeStagingDir(const std::string& dir) {
  static std::atomic<int> counter{0};
  std::string staging = StrCat(dir, "/.staging/", getpid(), "-", counter++);
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return Status::IOError(StrCat("cannot create '", staging, "': ", ec.message()));
  return staging;
}

Result<ingest::IngestReport> Engine::RegisterDataset(const model::DatasetSpec& spec,
                                                     const ingest::IngestOptions& options,
                                                     ingest::RecordParser* parser) {
  MIXTERA_ASSIGN_OR_RETURN(std::string staging, MakeStagingDir(dir_));
  std::error_code ec;
  ingest::IngestOptions scan_options = options;
  scan_options.mixtera_dir = fs::weakly_canonical(dir_, ec).string();
  auto session = ingest::IngestSession::Start(spec, staging, scan_options, parser);
  if (!session.ok()) {
    fs::remove_all(staging, ec);
    return session.status();
  }
  return FinishRegistration(spec, std::move(session).value(), staging, options);
}

Result<ingest::IngestReport> Engine::OpenAndRegister(const std::string& dir,
                                                     const model::DatasetSpec& spec,
                                                     const ingest::IngestOptions& options,
                                                     const EngineOptions& engine_options,
                                                     std::unique_ptr<Engine>* engine_out) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return Status::IOError(StrCat("cannot create Mixtera directory '", dir, "': ", ec.message()));
  MIXTERA_ASSIGN_OR_RETURN(std::string staging, MakeStagingDir(dir));
  ingest::IngestOptions scan_options = options;
  scan_options.mixtera_dir = fs::weakly_canonical(fs::absolute(dir), ec).string();
  if (!scan_options.mixtera_dir.empty() && scan_options.mixtera_dir.back() == '/') {
    scan_options.mixtera_dir.pop_back();
  }
  auto session = ingest::IngestSession::Start(spec, staging, scan_options, nullptr);
  if (!session.ok()) {
    fs::remove_all(staging, ec);
    return session.status();
  }
  // The scanners run while DuckDB opens the store.
  auto engine = Open(dir, engine_options);
  if (!engine.ok()) {
    session->reset();
    fs::remove_all(staging, ec);
    return engine.status();
  }
  auto report = (*engine)->FinishRegistration(spec, std::move(session).value(), staging, options);
  *engine_out = std::move(engine).value();
  return report;
}

Result<ingest::IngestReport> Engine::FinishRegistration(
    const model::DatasetSpec& spec, std::unique_ptr<ingest::IngestSession> session,
    const std::string& staging_dir, const ingest::IngestOptions& options) {
  std::error_code ec;
  auto writer = store_->BeginDataset(spec);
  Status st = writer.status();
  std::string offsets_dir;
  Result<ingest::IngestReport> report = Status::Internal("not run");
  if (st.ok()) {
    offsets_dir = OffsetsDir((*writer)->dataset_id());
    fs::remove_all(offsets_dir, ec);
    fs::create_directories(offsets_dir, ec);
    if (ec) st = Status::IOError(StrCat("cannot create '", offsets_dir, "': ", ec.message()));
  }
  if (st.ok()) {
    report = session->Finish(writer->get(), offsets_dir);
    st = report.status();
  }
  if (st.ok() && options.cancel != nullptr && options.cancel->load()) {
    st = Status::Cancelled(StrCat("registering dataset '", spec.name, "': interrupted"));
  }
  if (st.ok()) st = (*writer)->Commit();
  session.reset();  // cancels a scan that Finish() did not consume, and joins its threads
  fs::remove_all(staging_dir, ec);
  fs::remove(fs::path(staging_dir).parent_path(), ec);  // only when empty
  if (!st.ok()) {
    if (writer.ok()) writer->reset();  // rolls back
    if (!offsets_dir.empty()) fs::remove_all(offsets_dir, ec);
    return st;
  }
  return report;
}

Result<std::vector<model::DatasetInfo>> Engine::ListDatasets() { return store_->ListDatasets(); }

Result<model::DatasetInfo> Engine::GetDataset(const std::string& name) {
  return store_->GetDataset(name);
}

Result<std::vector<model::FileRecord>> Engine::ListFiles(const std::string& name) {
  return store_->ListFiles(name);
}

Status Engine::RemoveDataset(const std::string& name) {
  MIXTERA_ASSIGN_OR_RETURN(model::DatasetInfo info, store_->GetDataset(name));
  MIXTERA_RETURN_IF_ERROR(store_->RemoveDataset(name));
  std::error_code ec;
  fs::remove_all(OffsetsDir(info.dataset_id), ec);
  return Status::OK();
}

Result<TokenCountReport> Engine::CountTokens(const std::string& name,
                                             const std::string& tokenizer_path,
                                             const TokenCountOptions& options) {
  MIXTERA_ASSIGN_OR_RETURN(model::DatasetInfo info, store_->GetDataset(name));
  MIXTERA_ASSIGN_OR_RETURN(std::unique_ptr<tokenize::Tokenizer> tokenizer,
                           tokenize::LoadTokenizer(tokenizer_path));
  return CountDatasetTokens(store_.get(), info, OffsetsDir(info.dataset_id), *tokenizer,
                            tokenizer_path, options);
}

Result<VerifyReport> Engine::Verify(const std::optional<std::string>& name) {
  std::vector<model::DatasetInfo> datasets;
  if (name) {
    MIXTERA_ASSIGN_OR_RETURN(model::DatasetInfo info, store_->GetDataset(*name));
    datasets.push_back(std::move(info));
  } else {
    MIXTERA_ASSIGN_OR_RETURN(datasets, store_->ListDatasets());
  }
  VerifyReport report;
  for (const auto& d : datasets) {
    MIXTERA_ASSIGN_OR_RETURN(auto files, store_->ListFiles(d.name));
    for (const auto& f : files) {
      ++report.num_files_checked;
      FileChange change;
      change.dataset = d.name;
      change.path = f.path;
      change.registered_size_bytes = f.size_bytes;
      change.registered_mtime_ns = f.mtime_ns;
      struct stat st;
      if (stat(f.path.c_str(), &st) != 0) {
        change.change = "missing";
        change.current_size_bytes = -1;
        change.current_mtime_ns = -1;
        report.changes.push_back(std::move(change));
        continue;
      }
      change.current_size_bytes = static_cast<int64_t>(st.st_size);
      change.current_mtime_ns =
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      if (change.current_size_bytes != f.size_bytes) {
        change.change = "size";
      } else if (change.current_mtime_ns != f.mtime_ns) {
        change.change = "mtime";
      } else {
        continue;
      }
      report.changes.push_back(std::move(change));
    }
  }
  return report;
}

std::string DatasetInfoJson(const model::DatasetInfo& info) {
  nlohmann::json j;
  j["name"] = info.name;
  j["format"] = std::string(model::DataFormatName(info.format));
  j["num_files"] = info.num_files;
  j["num_samples"] = info.num_samples;
  j["num_skipped"] = info.num_skipped;
  j["total_bytes"] = info.total_bytes;
  j["on_error"] = info.on_error == model::OnError::kSkip ? "skip" : "fail";
  j["text"] = info.text_fields;
  nlohmann::json props = nlohmann::json::array();
  for (const auto& p : info.properties) {
    nlohmann::json jp;
    jp["name"] = p.name;
    jp["type"] = std::string(model::PropertyTypeName(p.type));
    jp["nullable"] = p.nullable;
    jp["field"] = p.field;
    if (!p.enum_values.empty()) jp["values"] = p.enum_values;
    props.push_back(std::move(jp));
  }
  j["properties"] = std::move(props);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string JobSummaryJson(const chunk::Job& job) {
  const auto& def = job.definition();
  nlohmann::json j;
  j["job_id"] = def.job_id;
  j["query"] = def.query;
  j["num_samples"] = job.index().num_samples();
  j["num_components"] = def.components.num_components();
  j["num_files"] = def.files.size();
  j["num_chunks"] = job.plan().num_chunks();
  j["end_reason"] = job.plan().end_reason();
  j["chunk_size"] = def.mixture.chunk_size;
  j["mixture_type"] = model::MixtureTypeName(def.mixture.type);
  // What per_chunk, available and delivered count: samples, or (estimated or exact) tokens.
  j["plan_unit"] = def.mixture.unit == model::ChunkUnit::kTokens ? "tokens" : "samples";
  j["unit"] = def.mixture.unit == model::ChunkUnit::kTokens ? "tokens" : "samples";
  j["exact_tokens"] = def.exact_tokens;
  j["tokenizer_fingerprint"] = def.tokenizer_fingerprint;
  nlohmann::json keys = nlohmann::json::array();
  if (def.mixture.type != model::MixtureType::kArbitrary) {
    const std::vector<int64_t> per_chunk = job.InitialCounts();
    for (size_t k = 0; k < def.keys.size(); ++k) {
      nlohmann::json key = nlohmann::json::parse(mixture::MixtureKeyToJson(def.keys[k].key));
      const int64_t out = job.plan().exhausted_at()[k];
      keys.push_back(
          {{"key", std::move(key)},
           {"key_id", k},
           {"per_chunk", per_chunk[k]},
           {"available", job.key_supply()[k]},
           {"delivered", job.plan().delivered()[k]},
           {"runs_out_at_chunk", out >= 0 ? nlohmann::json(out) : nlohmann::json(nullptr)}});
    }
  }
  j["keys"] = std::move(keys);
  j["warnings"] = def.warnings;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mixtera::engine
