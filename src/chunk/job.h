// Job: a materialized query result — file table, components, keys, ChunkerIndex, mixture
// log and plan — that answers GetChunk(k) by random access (DESIGN.md §3.5).
//
// A job lives in its own folder (<mixtera dir>/jobs/<job id>/):
//   job.json    the definition: query, mixture, files, components, keys, mixture log
//   index.bin   the ChunkerIndex (mmap-able; index/chunker_index.h)
//   state.log   changes since (mixture changes, horizon): chunk/job_state.h; Open replays it
// Open() needs only these files, never the metadata store, so DataLoader workers and other
// processes stream from a job without DuckDB. Format: docs/job_format.md.
//
// Thread safety: GetChunk and WaitForChunk may be called from several threads, also while
// UpdateMixture, SetHorizon or RestoreState run (they take the job's state lock and wake the
// waiters). The references definition() and plan() return are stable only while no such
// change runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/key_stream.h"
#include "chunk/plan.h"
#include "chunk/token_index.h"
#include "index/chunker_index.h"
#include "mixtera/result.h"
#include "model/component_table.h"
#include "model/mixture_spec.h"

namespace mixtera::chunk {

// A data file as the job's readers need it (file_index = position in JobDefinition::files).
struct JobFile {
  std::string path;
  std::string dataset;
  int64_t file_id = 0;
  int64_t size_bytes = 0;
  int64_t mtime_ns = 0;
  std::string format;       // "jsonl" | "parquet" | "webdataset"
  std::string compression;  // "none" | "gzip" | ...
  std::vector<std::string> text_fields;
  std::string offsets_path;  // "<dir>/offsets/<dataset_id>/<file_id>" (+ .offsets / .seek)
  int64_t num_records = 0;
  // Exact token counts only: the file's token counts file (formats/token_counts_file.h).
  std::string token_counts_path;
};

// How the client turns documents into training windows, when the job knows it
// (QueryExecutionArgs): `unit: tokens` quotas are then whole windows (PlanUnits), and with
// exact token counts a document's tokens include its BOS/EOS.
struct TokenPacking {
  int64_t sequence_length = 0;  // 0 = not given: quotas are plain token counts
  bool overlapping = false;
  bool bos = false;
  bool eos = false;
  int64_t extra_per_document() const { return (bos ? 1 : 0) + (eos ? 1 : 0); }
};

// A key of the job: mixture keys in declared order; for inferring and arbitrary mixtures,
// one key per component (its component key). key id = position.
struct JobKey {
  model::MixtureKey key;
  std::vector<int64_t> components;  // index component ids owned by this key
  int64_t repeat = 1;
};

// Who consumes the job (QueryExecutionArgs): chunk k goes to dp group k mod dp_groups and,
// within it, to worker (k div dp_groups) mod num_workers of every node.
struct Topology {
  int64_t dp_groups = 1;
  int64_t nodes_per_group = 1;
  int64_t num_workers = 1;  // DataLoader workers per node (at least 1)
};

struct JobDefinition {
  std::string job_id;
  Topology topology;
  std::string query;  // canonical text of the filter
  model::MixtureSpec mixture;
  int64_t store_version = 0;
  std::vector<JobFile> files;
  model::ComponentTable components;
  std::vector<JobKey> keys;
  std::vector<MixtureEvent> mixture_log;  // first entry at chunk 0
  // unit: tokens only: the tokenizer's fingerprint, and either exact counts (every file has
  // a token_counts_path) or estimates: per key the tokens per record byte and per sample
  // measured at execute time on a deterministic sample of the key (one entry per key; see
  // EstimatedTokenCounter). Either way the plan counts tokens.
  std::string tokenizer_fingerprint;
  bool exact_tokens = false;
  std::vector<double> key_tokens_per_byte;
  std::vector<double> key_tokens_per_sample;
  TokenPacking packing;
  // Chunks from this index on answer "not yet" (a dynamic mixture awaiting its decision);
  // -1 = no limit.
  int64_t horizon = -1;
  std::vector<std::string> warnings;
};

// A document that a chunk boundary cuts (exact token counts). Token offsets count the
// document's tokens with its BOS/EOS (TokenPacking).
struct SplitDocument {
  uint32_t file_index = 0;
  uint32_t sample = 0;
  int64_t tokens = 0;
};

struct ChunkKeyPart {
  int32_t key_id = 0;
  int64_t num_samples = 0;  // documents read (a split document counts in both chunks)
  // Sorted by (file, begin); touching ranges merged. Points into the descriptor's storage.
  std::span<const index::SampleRange> ranges;
  // Exact token counts only: the part's tokens, and the documents it shares with the
  // previous and the next chunk of its key. `head`: deliver the document's tokens from
  // head->tokens on (the earlier ones were in an earlier chunk); it is the first occurrence
  // of its sample in range order. `tail`: deliver only its first tail->tokens tokens; the
  // last occurrence. One document may be both (it spans the whole part).
  int64_t num_tokens = 0;
  std::optional<SplitDocument> head;
  std::optional<SplitDocument> tail;
};

// Move-only: the parts' ranges point into `range_storage`, which a move keeps in place.
struct ChunkDescriptor {
  ChunkDescriptor() = default;
  ChunkDescriptor(ChunkDescriptor&&) = default;
  ChunkDescriptor& operator=(ChunkDescriptor&&) = default;
  ChunkDescriptor(const ChunkDescriptor&) = delete;
  ChunkDescriptor& operator=(const ChunkDescriptor&) = delete;

  int64_t index = 0;
  int32_t mixture_id = 0;
  bool partial = false;
  std::vector<ChunkKeyPart> keys;  // by key id
  std::vector<index::SampleRange> range_storage;
  int64_t num_samples() const;
};

enum class ChunkStatus { kChunk, kNotYet, kEnd };

struct ChunkReply {
  ChunkStatus status = ChunkStatus::kEnd;
  ChunkDescriptor chunk;  // when status == kChunk
};

// Global chunk index of the t-th chunk (t = 0, 1, ...) of worker w in dp group g, with G dp
// groups and W workers per node: chunk k goes to group k mod G and, within it, to worker
// (k div G) mod W (all nodes of a group get the same chunks).
int64_t ConsumerChunk(int64_t G, int64_t g, int64_t W, int64_t w, int64_t t);

// Where one consumer (worker w of dp group g) stands in a job: its next chunk is
// ConsumerChunk(dp_groups, dp_group, num_workers, worker, next). With the job's state (the
// mixture log, Job::StateJson) this is everything a checkpoint needs to resume exactly.
struct ConsumerState {
  int64_t dp_groups = 1, dp_group = 0;
  int64_t num_workers = 1, worker = 0;
  int64_t next = 0;  // chunks this consumer has taken

  int64_t next_chunk() const {
    return ConsumerChunk(dp_groups, dp_group, num_workers, worker, next);
  }
  std::string ToJson() const;
  // Errors: InvalidArgument for malformed JSON or values out of range.
  static Result<ConsumerState> FromJson(std::string_view json);
};

class Job {
 public:
  // Builds the key streams and the plan. Errors: InvalidArgument when the definition is
  // inconsistent with the index (component counts/sizes) or the mixture log is malformed.
  static Result<std::unique_ptr<Job>> Create(JobDefinition def,
                                             std::unique_ptr<index::ChunkerIndex> index);
  // Opens a saved job folder. Errors: NotFound (no such job), Corruption (bad files),
  // naming the path.
  static Result<std::unique_ptr<Job>> Open(const std::string& job_dir);
  // Writes job.json and index.bin into `job_dir`, which must not exist (AlreadyExists); the
  // folder appears atomically (written under a temporary name, then renamed).
  Status Save(const std::string& job_dir) const;

  const JobDefinition& definition() const { return def_; }
  const index::ChunkerIndex& index() const { return *index_; }
  const Plan& plan() const { return plan_; }
  // Samples per chunk of each key in the first segment (0 when the key takes no part).
  std::vector<int64_t> InitialCounts() const;
  // Samples available to each key (its data times its repeat); tokens with unit: tokens.
  const std::vector<int64_t>& key_supply() const { return supply_; }

  // Chunk k: kChunk with its descriptor, kNotYet (k >= horizon), or kEnd (k past the
  // plan). Idempotent. Errors: InvalidArgument for k < 0.
  Result<ChunkReply> GetChunk(int64_t k) const;

  // GetChunk(k), but while chunk k is not decided yet (kNotYet) waits — without polling —
  // until a change decides it (SetHorizon, UpdateMixture, RestoreState in this process),
  // `deadline` passes, or `*cancel` becomes true (the canceller then calls WakeWaiters()).
  // Returns kChunk or kEnd. Errors: those of GetChunk; Cancelled; Unavailable when the
  // deadline passes first (naming the chunk).
  Result<ChunkReply> WaitForChunk(int64_t k, std::chrono::steady_clock::time_point deadline,
                                  const std::atomic<bool>* cancel) const;
  // Wakes every WaitForChunk to check its cancel flag.
  void WakeWaiters() const;

  // Appends a mixture change taking effect at chunk `at_chunk` (>= every earlier change)
  // and re-plans from the previous change on (Plan::Extend: the cost does not grow with the
  // number of earlier changes); chunks before it are unchanged. `weights`: one per key.
  Status UpdateMixture(int64_t at_chunk, std::vector<double> weights);
  // The checks of UpdateMixture without the change. Errors: FailedPrecondition (arbitrary
  // mixture), InvalidArgument (wrong number of weights, a chunk not after the last change,
  // negative or all-zero weights).
  Status CheckMixtureUpdate(int64_t at_chunk, const std::vector<double>& weights) const;
  void SetHorizon(int64_t horizon);
  // The first chunk not decided yet (-1: every chunk is decided; a static job).
  int64_t horizon() const;
  // A dynamic mixture: chunks are decided as consumers reach them (JobManager).
  bool dynamic() const { return def_.mixture.type == model::MixtureType::kDynamic; }
  int64_t lag_chunks() const { return def_.mixture.lag_chunks; }
  // The mixture log's length (mixture ids in use are [0, this)), and a copy of it.
  int64_t num_mixtures() const;
  std::vector<MixtureEvent> MixtureLogCopy() const;
  // Chunks the plan holds so far (a dynamic job's plan grows with its mixture changes).
  int64_t num_planned_chunks() const;
  // Feedback the state log holds: RecordFeedback counts one step of dp group `group`;
  // last_feedback_step is the largest step recorded for it (-1: none).
  void RecordFeedback(int64_t group, int64_t step);
  int64_t last_feedback_step(int64_t group) const;
  int64_t feedback_records() const;
  // Records of the job's state log (chunk/job_state.h) applied to this object: Open replays
  // the log, and a JobStateWriter counts what it adds.
  int64_t applied_state_records() const { return applied_state_records_; }
  void set_applied_state_records(int64_t n) { applied_state_records_ = n; }
  void AddWarning(std::string warning) { def_.warnings.push_back(std::move(warning)); }

  // The job's mutable state — the mixture log and the horizon — as JSON; RestoreState puts
  // it back (e.g. into a job reopened from disk after a restart) and re-plans. Errors:
  // InvalidArgument when the JSON is malformed or does not fit the job's keys.
  std::string StateJson() const;
  Status RestoreState(std::string_view json);

  // Key `key_id`'s properties as a JSON object ({"prop": [values]}), as in ChunkJson.
  std::string KeyJsonText(int32_t key_id) const;
  // The descriptor as one JSON object (the CLI's `chunks --json` line).
  std::string ChunkJson(const ChunkDescriptor& chunk) const;
  // The job definition as JSON (job.json).
  std::string DefinitionJson() const;

 private:
  Job(JobDefinition def, std::unique_ptr<index::ChunkerIndex> index);
  Status Init();
  bool arbitrary() const { return def_.mixture.type == model::MixtureType::kArbitrary; }
  // What the plan counts (PlanUnits) for this job's unit and packing.
  PlanUnits Units() const;
  // Sets up every key's token counter (exact: the files' token counts; else estimates) and
  // indexes its token stream (unit: tokens).
  Status InitTokens();
  // Fills `part` with the samples holding the key's tokens [t0, t1) (unit: tokens); the
  // ranges are appended to `storage`. Exact: documents are cut at t0 and t1 (head, tail);
  // estimated: a sample goes with the chunk where its first token lies.
  // Errors: those of the key's token counter (a corrupt offsets file).
  Status ExtractTokens(int32_t key, int64_t t0, int64_t t1, ChunkKeyPart* part,
                       std::vector<index::SampleRange>* storage) const;
  // GetChunk with the state lock held (shared).
  Result<ChunkReply> GetChunkLocked(int64_t k) const;

  JobDefinition def_;
  std::unique_ptr<index::ChunkerIndex> index_;
  std::vector<KeyStream> streams_;  // per plan key
  std::vector<int64_t> supply_;     // per job key
  Plan plan_;
  // unit: tokens only, per job key.
  std::vector<std::shared_ptr<const RangeTokenCounter>> token_counters_;
  std::vector<KeyTokenIndex> token_index_;
  // Guards the mutable state (def_.mixture_log, def_.horizon, plan_) between GetChunk
  // (shared) and the changes (exclusive); waiters sleep on state_changed_.
  int64_t applied_state_records_ = 0;
  int64_t feedback_records_ = 0;
  std::map<int64_t, int64_t> last_feedback_step_;  // per dp group
  mutable std::shared_mutex state_mu_;
  mutable std::condition_variable_any state_changed_;
};

// Checks a job id: 1-128 characters of [A-Za-z0-9._-], not starting with '.'.
// Errors: InvalidArgument.
Status ValidateJobId(const std::string& job_id);

}  // namespace mixtera::chunk
