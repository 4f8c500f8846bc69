// The writer of one dataset registration (MetadataStore::BeginDataset). Private to the
// store module.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "duckdb/appender.h"
#include "duckdb/connection.h"
#include "mixtera/result.h"
#include "model/dataset_spec.h"
#include "store/metadata_store.h"

namespace mixtera::store::internal {

// Makes the writer of dataset `dataset_id`, whose samples table exists (committed) and is
// filled through `appender` or InsertFromChunks on `conn`, a connection of its own in
// auto-commit mode. Reads the global dictionaries of the spec's string properties.
// `on_done` runs when the writer is destroyed (also when this fails).
// Errors: DuckDB's errors reading the dictionaries (the samples table is then dropped).
Result<std::unique_ptr<DatasetWriter>> MakeDatasetWriter(duckdb::Connection conn,
                                                         duckdb::Appender appender,
                                                         const model::DatasetSpec& spec,
                                                         int64_t dataset_id, int64_t next_file_id,
                                                         std::function<void()> on_done);

}  // namespace mixtera::store::internal
