// MetadataStore: the DuckDB metadata database of a Mixtera directory (`mixtera.duckdb`).
// Schema and invariants: docs/store_schema.md.
//
// Registration is a transaction: BeginDataset() starts it and creates the dataset's
// samples table, the DatasetWriter appends files and samples, Commit() makes everything
// visible at once (and bumps the store version); dropping the writer without Commit() rolls
// everything back, so a failed registration leaves nothing behind.
//
// Thread safety: not thread-safe. One thread uses the store (and its writer) at a time;
// ingest funnels batches from its scanner threads to one appending thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duckdb/connection.h"
#include "mixtera/result.h"
#include "model/dataset_info.h"
#include "model/dataset_spec.h"
#include "model/property.h"
#include "model/sample_batch.h"

namespace mixtera::store {

struct StoreOptions {
  // DuckDB memory limit. Default: "2GB". Bounds DuckDB's own buffers, not ingest's.
  std::string memory_limit = "2GB";
  // DuckDB worker threads. Default: 0 = DuckDB's default (number of cores).
  int threads = 0;
};

// A global property: one name, one type, across all datasets (DESIGN.md §3.1).
struct GlobalProperty {
  std::string name;
  model::PropertyType type;
};

class DatasetWriter;

class MetadataStore {
 public:
  // Opens `db_path`, creating the file and the schema when missing. Autoinstall and
  // autoload of DuckDB extensions are off.
  // Errors: IOError when DuckDB cannot open the file (e.g. locked by another process);
  // Corruption when the file is not a Mixtera store of a known schema version.
  static Result<std::unique_ptr<MetadataStore>> Open(const std::string& db_path,
                                                     const StoreOptions& options = {});
  virtual ~MetadataStore() = default;

  // Starts registering `spec`: checks that the name is free (AlreadyExists) and that every
  // property agrees in type with the global property of that name (InvalidArgument naming
  // the property, both types and the dataset that declared it first), begins a
  // transaction and creates the samples table. At most one writer exists at a time
  // (FailedPrecondition otherwise). The writer must not outlive the store.
  virtual Result<std::unique_ptr<DatasetWriter>> BeginDataset(const model::DatasetSpec& spec) = 0;

  // All datasets, ordered by name. Counts are as committed.
  virtual Result<std::vector<model::DatasetInfo>> ListDatasets() = 0;
  // Errors: NotFound naming the dataset.
  virtual Result<model::DatasetInfo> GetDataset(const std::string& name) = 0;
  // The files of a dataset, ordered by file_id. Errors: NotFound.
  virtual Result<std::vector<model::FileRecord>> ListFiles(const std::string& dataset_name) = 0;
  // The sample ids of one file of a dataset, ascending (records skipped at registration
  // and blank lines are not samples). Errors: NotFound for an unknown dataset.
  virtual Result<std::vector<uint32_t>> ListSampleIds(const std::string& dataset_name,
                                                      int64_t file_id) = 0;
  // Drops the dataset's table, files and property declarations; bumps the version.
  // Errors: NotFound.
  virtual Status RemoveDataset(const std::string& name) = 0;
  // Every property declared by at least one dataset, ordered by name.
  virtual Result<std::vector<GlobalProperty>> ListProperties() = 0;
  // Increases on every committed change (registration, removal). Starts at 0.
  virtual Result<int64_t> Version() = 0;
  // Number of rows in the `samples` view (all datasets).
  virtual Result<int64_t> CountSamples() = 0;
  // True when Open() created the store (it was empty).
  virtual bool created() const = 0;
  // The store's read connection, for the query layer's scans (docs/store_schema.md is the
  // contract). Must not be used while a registration is open.
  virtual duckdb::Connection& connection() = 0;
};

// Appends one dataset's files and samples inside the registration transaction.
// Not thread-safe.
class DatasetWriter {
 public:
  // Rolls back unless Commit() succeeded.
  virtual ~DatasetWriter() = default;

  virtual int64_t dataset_id() const = 0;

  // Reserves `count` consecutive file ids, unique across the store; returns the first.
  virtual Result<int64_t> ReserveFileIds(int64_t count) = 0;

  // Appends the rows of `batch` to the samples table. Columns follow the spec's property
  // order; `batch.file_id` must have been reserved.
  virtual Status AppendSamples(const model::SampleBatch& batch) = 0;

  // Returns the next batch to append (valid until the next call), or nullptr at the end.
  using SampleBatchSource = std::function<Result<const model::SampleBatch*>()>;
  // Appends every batch `next` returns, as AppendSamples would, in one INSERT statement
  // (cheaper than batch after batch: DuckDB takes the rows without buffering them again).
  // `next` is called on one thread at a time, not necessarily the calling one.
  // Errors: as AppendSamples; the first error `next` returns.
  virtual Status AppendSampleStream(const SampleBatchSource& next) = 0;

  // Records a scanned file (its counts must be final).
  virtual Status AddFile(const model::FileRecord& file) = 0;

  // Flushes, writes the dataset's totals (computed from the files added), recreates the
  // `samples` view, bumps the version and commits. After Commit() the writer is spent.
  virtual Status Commit() = 0;
};

}  // namespace mixtera::store
