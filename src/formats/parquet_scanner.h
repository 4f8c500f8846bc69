// ParquetScanner: enumerates the rows of one Parquet file for ingest and extracts the
// declared properties into SampleBatches (DESIGN.md §3.1). The file is read through an
// in-memory DuckDB instance shared by the process (one connection per scanner) with
// `read_parquet(path, file_row_number=true)`, streamed in the calling thread, so only the
// selected columns are decoded and memory stays bounded by about one row group.
//
//   MIXTERA_ASSIGN_OR_RETURN(
//       auto scanner, ParquetScanner::Open(path, file_id, spec.properties, spec.text_fields));
//   SampleBatch batch(file_id, spec.properties);
//   for (bool more = true; more;) {
//     MIXTERA_ASSIGN_OR_RETURN(more, scanner->Next(&batch, on_bad_row));
//     if (batch.num_rows() >= kFlushRows) Emit(std::move(batch)), batch = SampleBatch(...);
//   }
//   file.num_records = scanner->num_rows();
//
// Column mapping: a property reads the top-level column named by its `field` (its name
// when `field` is empty). Accepted column types per property type:
//   string, enum: VARCHAR;  int: any integer type up to 64 bits (a UBIGINT above INT64_MAX
//   is a row error);  float: FLOAT, DOUBLE or any integer type;  bool: BOOLEAN;
//   string_list: VARCHAR[] or VARCHAR (a scalar becomes a one-element list).
// Text columns must be VARCHAR. sample_id is the row's 0-based position in the file.
//
// Row errors (the callback decides): a NULL for a non-nullable property, a value outside an
// enum's values, a NULL item inside a list, an integer that does not fit int64. Each is a
// InvalidArgument status (as for JSONL values) "<path>: row <row>: property '<name>' ...".
//
// Thread safety: one thread at a time; distinct scanners may run on different threads (and
// in forked children).
//
// Limitation: DuckDB treats `*`, `?` and `[` in the path as a glob; a file whose name
// contains them may not be found.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mixtera/result.h"
#include "mixtera/status.h"
#include "model/property.h"
#include "model/sample_batch.h"

namespace mixtera::formats {

class ParquetScanner {
 public:
  // Called for a bad row with its row number and the error. Returning OK skips the row;
  // returning an error stops the scan with that error.
  using BadRowHandler = std::function<Status(int64_t row, const Status& error)>;

  // Default for `max_rows_per_call`.
  static constexpr int64_t kDefaultMaxRowsPerCall = 65536;

  // Opens `path` and checks every property column and text column against the file's
  // schema. Errors: NotFound (no such file), IOError (unreadable), Corruption (not a valid
  // Parquet file; names the file), InvalidArgument (a missing column or an incompatible
  // type; names the file, the column and, for a type mismatch, both types).
  static Result<std::unique_ptr<ParquetScanner>> Open(
      const std::string& path, int64_t file_id,
      const std::vector<model::PropertySchema>& properties,
      const std::vector<std::string>& text_columns,
      int64_t max_rows_per_call = kDefaultMaxRowsPerCall);

  ~ParquetScanner();
  ParquetScanner(const ParquetScanner&) = delete;
  ParquetScanner& operator=(const ParquetScanner&) = delete;

  // Appends up to `max_rows_per_call` good rows to `*batch`. A batch with no columns and no
  // rows is set up for this file first; otherwise it must have been built for this file's
  // properties (file_id and column types). Returns false once the file is exhausted (that
  // call may still have appended rows). Errors: Corruption / IOError when DuckDB fails to
  // decode the file (names the file), the handler's error for a bad row.
  Result<bool> Next(model::SampleBatch* batch, const BadRowHandler& on_bad_row);

  // Physical rows read so far, good and bad; after Next() returned false, the file's rows.
  int64_t num_rows() const { return num_rows_; }
  // Bad rows the handler chose to skip.
  int64_t num_skipped() const { return num_skipped_; }

 private:
  struct State;
  explicit ParquetScanner(std::unique_ptr<State> state);

  // Extracts row `row` of the current chunk into `batch`; on a row error returns it (the
  // caller rolls the batch back).
  Status ExtractRow(int64_t row, int64_t row_number, model::SampleBatch* batch);

  std::unique_ptr<State> state_;
  int64_t num_rows_ = 0;
  int64_t num_skipped_ = 0;
};

}  // namespace mixtera::formats
