// Engine: the facade over a Mixtera directory (LevelDB's DB/DBImpl split). It owns the
// metadata store and the per-file offsets, and runs registrations.
//
// A Mixtera directory holds:
//   mixtera.duckdb            the metadata store (docs/store_schema.md)
//   offsets/<dataset_id>/     "<file_id>.offsets" and "<file_id>.seek" per data file
// and never copies of the data.
//
//   MIXTERA_ASSIGN_OR_RETURN(auto engine, Engine::Open("/data/mx"));
//   MIXTERA_ASSIGN_OR_RETURN(auto spec, ingest::ParseDatasetSpecFile("pile.yaml"));
//   MIXTERA_ASSIGN_OR_RETURN(auto result, engine->RegisterDataset(spec, {}, nullptr));
//
// Thread safety: not thread-safe; one thread uses an engine at a time. Only one process may
// open a directory at a time (DuckDB locks the store file).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chunk/job.h"
#include "engine/query_executor.h"
#include "engine/token_counter.h"
#include "ingest/ingester.h"
#include "mixtera/result.h"
#include "model/dataset_info.h"
#include "model/dataset_spec.h"
#include "model/mixture_spec.h"
#include "model/predicate.h"
#include "store/metadata_store.h"

namespace mixtera::engine {

struct EngineOptions {
  store::StoreOptions store;
  QueryOptions query;
};

// A data file that differs from its registration.
struct FileChange {
  std::string dataset;
  std::string path;
  // "missing", "size" or "mtime".
  std::string change;
  int64_t registered_size_bytes = 0;
  int64_t current_size_bytes = 0;  // -1 when missing
  int64_t registered_mtime_ns = 0;
  int64_t current_mtime_ns = 0;  // -1 when missing
};

struct VerifyReport {
  int64_t num_files_checked = 0;
  std::vector<FileChange> changes;
};

class Engine {
 public:
  // Opens (creating when missing) the Mixtera directory `dir` and its store, and removes
  // offsets left behind by registrations that never committed. Safe when several processes
  // open a new directory at once (they take `dir/mixtera.lock` while opening); an empty
  // `mixtera.duckdb` (a crash before the store's first write) is replaced by a new store.
  // Errors: IOError when the directory cannot be created or the store cannot be opened;
  // Unavailable when another process has the store open (one process at a time).
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir,
                                              const EngineOptions& options = {});
  ~Engine();

  const std::string& dir() const { return dir_; }

  // Registers `spec` atomically: on any error nothing remains (no store rows, no offsets).
  // `parser` (may be null) is the JSONL parser hook. Errors: see ingest::IngestDataset and
  // store::MetadataStore::BeginDataset (AlreadyExists for a taken name).
  Result<ingest::IngestReport> RegisterDataset(const model::DatasetSpec& spec,
                                               const ingest::IngestOptions& options,
                                               ingest::RecordParser* parser);

  // Opens `dir` and registers `spec` there, scanning the files while the store opens (the
  // CLI's `register`). On success *engine_out holds the open engine. Errors: as Open() and
  // RegisterDataset().
  static Result<ingest::IngestReport> OpenAndRegister(const std::string& dir,
                                                      const model::DatasetSpec& spec,
                                                      const ingest::IngestOptions& options,
                                                      const EngineOptions& engine_options,
                                                      std::unique_ptr<Engine>* engine_out);

  Result<std::vector<model::DatasetInfo>> ListDatasets();
  // Errors: NotFound.
  Result<model::DatasetInfo> GetDataset(const std::string& name);
  Result<std::vector<model::FileRecord>> ListFiles(const std::string& name);
  // Drops the dataset and its offsets. Errors: NotFound.
  Status RemoveDataset(const std::string& name);
  // Compares every file of `name` (or of all datasets) with its registration.
  // Errors: NotFound for an unknown name.
  Result<VerifyReport> Verify(const std::optional<std::string>& name);

  // Counts and stores the exact tokens of every sample of dataset `name` under the
  // tokenizer file `tokenizer_path` (engine/token_counter.h); a no-op when they exist.
  // Errors: NotFound (dataset); the tokenizer's load errors; see CountDatasetTokens.
  Result<TokenCountReport> CountTokens(const std::string& name, const std::string& tokenizer_path,
                                       const TokenCountOptions& options = {});

  // Runs `where` with `mixture` and returns the job in memory; nothing is written (the
  // dry run of `mixtera query` and the stream of `mixtera chunks`). Errors: see BuildJob.
  Result<std::unique_ptr<chunk::Job>> PlanQuery(const std::string& job_id,
                                                const model::Predicate& where,
                                                const model::MixtureSpec& mixture,
                                                JobBuildStats* stats = nullptr,
                                                const JobOptions& job_options = {});
  // As PlanQuery, then materializes the job under JobDir(job_id) so other processes can
  // stream it (chunk::Job::Open). A dynamic mixture's job starts with no chunk decided
  // (horizon 0): a JobManager decides them as consumers reach them. Errors: AlreadyExists for a job
  // id in use; as PlanQuery; IOError when the job folder cannot be written.
  Result<std::unique_ptr<chunk::Job>> ExecuteQuery(const std::string& job_id,
                                                   const model::Predicate& where,
                                                   const model::MixtureSpec& mixture,
                                                   const JobOptions& job_options = {},
                                                   JobBuildStats* stats = nullptr);
  // "<dir>/jobs/<job_id>".
  std::string JobDir(const std::string& job_id) const { return JobDirOf(dir_, job_id); }
  static std::string JobDirOf(const std::string& dir, const std::string& job_id);

  // The folder holding the offsets of dataset `dataset_id`.
  std::string OffsetsDir(int64_t dataset_id) const;

  store::MetadataStore* store() { return store_.get(); }

 private:
  Engine(std::string dir, std::unique_ptr<store::MetadataStore> store);
  Status RemoveStaleOffsets();
  // Creates "<dir>/.staging/<pid>-<n>" for a registration's offsets before their ids exist.
  static Result<std::string> MakeStagingDir(const std::string& dir);
  // Finishes a registration whose scan runs in `session` (staged in `staging_dir`); the
  // session is done (its threads joined) and the staging folder gone when this returns.
  // Nothing is committed once options.cancel is set.
  Result<ingest::IngestReport> FinishRegistration(const model::DatasetSpec& spec,
                                                  std::unique_ptr<ingest::IngestSession> session,
                                                  const std::string& staging_dir,
                                                  const ingest::IngestOptions& options);

  std::string dir_;
  EngineOptions options_;
  std::unique_ptr<store::MetadataStore> store_;
};

// The JSON object describing a dataset (`mixtera datasets --json`, Python dataset_info):
// name, format, num_files, num_samples, num_skipped, total_bytes, on_error, text,
// properties [{name, type, nullable, field[, values]}].
std::string DatasetInfoJson(const model::DatasetInfo& info);

// The JSON object summarizing a job (Python execute_query's return value): job_id,
// num_samples, num_components, num_chunks, end_reason, chunk_size, unit, exact_tokens,
// plan_unit (what the key counts count: "samples", or "tokens" for unit: tokens),
// keys [{key, key_id, per_chunk, available, delivered, runs_out_at_chunk}], warnings.
std::string JobSummaryJson(const chunk::Job& job);

}  // namespace mixtera::engine
