// BuildIndex: runs a query against the metadata store and builds its ChunkerIndex
// (DESIGN.md §3.4) — the hot path of execute_query.
//
// Per matching dataset, one scan `SELECT file_id, sample_id, <grouping columns> FROM
// samples_<id> WHERE <compiled filter>` streams integer codes (never strings) in insertion
// order; each row's component is found from its codes (a dense array when the grouping
// properties' dictionaries are small, a hash map otherwise) and consecutive samples of the
// same component become runs. Only the distinct values seen are decoded, at the end.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "index/chunker_index.h"
#include "mixtera/result.h"
#include "model/component_table.h"
#include "model/dataset_info.h"
#include "model/predicate.h"
#include "query/filter_compiler.h"
#include "store/metadata_store.h"

namespace mixtera::query {

struct BuiltIndex {
  model::ComponentTable components;  // sorted by values; component c = index component c
  std::unique_ptr<index::ChunkerIndex> index;
  // The files holding matching samples, in (dataset id, file id) order; the index's
  // file_index is a position here.
  std::vector<model::FileRecord> files;
  std::vector<std::string> file_datasets;    // dataset name per file
  std::vector<model::DatasetInfo> datasets;  // every dataset that was scanned
  int64_t num_samples = 0;
  double scan_seconds = 0;    // query execution and index building (they overlap)
  double finish_seconds = 0;  // decoding values, sorting components, finishing the index
};

inline constexpr int64_t kDefaultScanGroupRows = int64_t{1} << 20;

// How BuildIndex scans the store.
struct ScanOptions {
  // Files are scanned in groups of about `group_rows` records (at least one file each);
  // while one group is turned into runs, the next is scanned on a second thread. The result
  // does not depend on the group size; small groups keep the row buffers in cache (tests use
  // tiny ones to exercise the overlap).
  int64_t group_rows = kDefaultScanGroupRows;
  // DuckDB's memory limit while the scan runs, in bytes; 0 = sized from DuckDB's thread count
  // and the columns read (a few MiB). DuckDB keeps every block it reads until its limit, each
  // in fresh memory, and first touches of fresh pages cost more than scanning them; under a
  // small limit it evicts scanned blocks and reads the next ones into their buffers. When a
  // scan runs out of memory under it, the store's own limit comes back and the scan reruns.
  // The store's limit is always back when BuildIndex returns.
  int64_t buffer_pool_bytes = 0;
};

// Builds the index of the samples matching `where` (validated against ctx), grouped by
// `group_by` (property names; may include the pseudo-property `dataset`; `split` cannot
// group). Errors: InvalidArgument for an unknown grouping property or `split`; errors of
// the store (IOError, Corruption) as they come; Internal when the store returns rows out of
// (file_id, sample_id) order.
Result<BuiltIndex> BuildIndex(store::MetadataStore* store, const model::Predicate& where,
                              const std::vector<std::string>& group_by, const FilterContext& ctx,
                              const ScanOptions& options = {});

}  // namespace mixtera::query
