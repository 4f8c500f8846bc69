// Query execution: a filter plus a mixture become a job (DESIGN.md §3.4–§3.5).
//
// BuildJob runs the query over the store (query::BuildIndex), resolves the mixture's keys
// against the components, builds the mixture log and the plan, and collects warnings. The
// Engine materializes the result under <dir>/jobs/<job id>/ (Engine::ExecuteQuery) or uses
// it in memory (Engine::PlanQuery, for `mixtera query` and `mixtera chunks`).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chunk/job.h"
#include "mixtera/result.h"
#include "model/mixture_spec.h"
#include "model/predicate.h"
#include "store/metadata_store.h"

namespace mixtera::engine {

struct QueryOptions {
  // The fraction of samples the `split` pseudo-property calls 'holdout'.
  double holdout_fraction = 0.05;
};

// Timings and sizes of one job build, for reports and benchmarks.
struct JobBuildStats {
  double scan_seconds = 0;    // query + index build (overlapped)
  double finish_seconds = 0;  // value decoding, component sort, index finish
  double plan_seconds = 0;    // key resolution + plan
  double total_seconds = 0;
  int64_t num_samples = 0;
  int64_t index_bytes = 0;
  int64_t num_ranges = 0;   // stored ranges (incl. single-run entries)
  int64_t num_entries = 0;  // (component, file) pairs
};

// How a job is built beyond its query and mixture (QueryExecutionArgs).
struct JobOptions {
  chunk::Topology topology;
  // A tokenizer file (tokenize::LoadTokenizer); required for `unit: tokens`.
  std::string tokenizer;
  // How the client will pack windows (unit: tokens): quotas become whole windows, and with
  // exact token counts BOS/EOS count as document tokens. See chunk::TokenPacking.
  chunk::TokenPacking packing;
};

// Builds the job `job_id` for samples matching `where`, mixed by `mixture`.
// `offsets_dir(dataset_id)` gives the folder of a dataset's offsets files. With `unit:
// tokens` the job is exact when every dataset it reads has token counts for the tokenizer
// (engine/token_counter.h); otherwise token quotas are estimates and a warning names the
// datasets without counts.
// Errors: InvalidArgument (bad query, unknown grouping property, a key naming a
// non-grouping property, unit: tokens without a tokenizer), the tokenizer's errors, errors
// reading the sampled texts for `unit: tokens` (e.g. a data file changed since
// registration), and store errors.
Result<std::unique_ptr<chunk::Job>> BuildJob(
    store::MetadataStore* store, const std::string& job_id, const model::Predicate& where,
    const model::MixtureSpec& mixture, const QueryOptions& options, const JobOptions& job_options,
    const std::function<std::string(int64_t)>& offsets_dir, JobBuildStats* stats);

// The default grouping of inferring and arbitrary mixtures: every string, enum and bool
// property of the store, sorted by name.
std::vector<std::string> DefaultGrouping(const std::vector<store::GlobalProperty>& properties);

}  // namespace mixtera::engine
