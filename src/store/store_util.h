// Helpers shared by the store and its dataset writer. Private to the store module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/macros.h"
#include "duckdb/appender.h"
#include "duckdb/connection.h"
#include "duckdb/query_result.h"
#include "mixtera/result.h"
#include "model/dataset_info.h"
#include "model/dataset_spec.h"

namespace mixtera::store::internal {

// The stored spelling of an on_error policy ("fail", "skip"), and back (Corruption for an
// unknown spelling).
std::string_view OnErrorName(model::OnError on_error);
Result<model::OnError> ParseOnError(std::string_view name);
// A stored compression name back to the enum (Corruption for an unknown name).
Result<model::Compression> ParseCompression(std::string_view name);

// Reads every chunk of `result`, calling `row_fn(result, row)` per row.
template <typename Fn>
Status ForEachRow(duckdb::QueryResult& result, Fn&& row_fn) {
  while (true) {
    MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
    if (!more) return Status::OK();
    for (int64_t row = 0; row < result.chunk_size(); ++row) {
      MIXTERA_RETURN_IF_ERROR(row_fn(result, row));
    }
  }
}

// The VARCHAR[] at (col, row) of the current chunk; empty for NULL.
std::vector<std::string> ReadStringList(const duckdb::QueryResult& r, int col, int64_t row);
// Sets (col, row) of the appender's chunk to the VARCHAR[] `items`.
void SetStringList(duckdb::Appender& app, int col, int64_t row,
                   const std::vector<std::string>& items);

// Recreates the `samples` view over the datasets visible to `conn`, leaving out dataset
// `without_dataset_id` (-1: none).
Status RecreateSamplesView(duckdb::Connection& conn, int64_t without_dataset_id);

}  // namespace mixtera::store::internal
