// Appender: bulk insertion into one table through DuckDB's data-chunk appender, column by
// column (no per-row calls into DuckDB; strings are copied once into the chunk).
//
// The caller fills rows [0, n) of the current chunk (n <= chunk_capacity()) with the
// setters, then calls AppendChunk(n), which hands the chunk to DuckDB and starts an empty
// one. Every row of every column in [0, n) must be set (a value, a list or SetNull).
//
//   MIXTERA_ASSIGN_OR_RETURN(auto app, conn.CreateAppender("samples_1"));
//   for (int64_t row = 0; row < n; ++row) {
//     app.SetInt64(0, row, ids[row]);
//     app.SetString(1, row, names[row]);
//     app.BeginList(2, row);
//     for (auto& tag : tags[row]) app.AppendListItem(2, tag);
//   }
//   MIXTERA_RETURN_IF_ERROR(app.AppendChunk(n));
//   MIXTERA_RETURN_IF_ERROR(app.Close());
//
// Appended rows become part of the connection's current transaction (or are committed by
// Flush/Close in auto-commit mode). Calling a setter of the wrong type for a column, or with
// an index out of range, is a bug and aborts.
// Thread safety: one thread at a time (it belongs to its connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "mixtera/status.h"

namespace mixtera::duckdb {

namespace internal {
struct AppenderState;
}  // namespace internal

// The column types an Appender can fill.
enum class AppendType : uint8_t {
  kBigInt,
  kInteger,
  kDouble,
  kBoolean,
  kVarchar,
  kVarcharList,
  kIntegerList,
};

class Appender {
 public:
  Appender(Appender&&) noexcept;
  Appender& operator=(Appender&&) noexcept;
  // Closes the appender (flushing appended chunks) and ignores errors; call Close() to see
  // them.
  ~Appender();

  int column_count() const;
  AppendType column_type(int col) const;
  // Rows per chunk (DuckDB's vector size).
  int64_t chunk_capacity() const;

  // The current chunk's values of a BIGINT / INTEGER column, for writing rows
  // [0, chunk_capacity()) directly (as SetInt64 / SetInt32 would; SetNull still marks NULLs).
  // Valid until the chunk is appended or the appender closes.
  int64_t* MutableInt64(int col);
  int32_t* MutableInt32(int col);
  // BIGINT.
  void SetInt64(int col, int64_t row, int64_t value);
  // INTEGER.
  void SetInt32(int col, int64_t row, int32_t value);
  // DOUBLE.
  void SetDouble(int col, int64_t row, double value);
  // BOOLEAN.
  void SetBool(int col, int64_t row, bool value);
  // VARCHAR.
  void SetString(int col, int64_t row, std::string_view value);
  // Any column.
  void SetNull(int col, int64_t row);
  // VARCHAR[]: starts the (empty) list of `row`; AppendListItem adds items to it. Within a
  // chunk, the lists of one column must be begun in increasing row order.
  void BeginList(int col, int64_t row);
  void AppendListItem(int col, std::string_view item);
  // INTEGER[]: as AppendListItem, for a list started with BeginList().
  void AppendListInt32(int col, int32_t item);

  // Appends rows [0, num_rows) of the current chunk and starts an empty chunk.
  // Errors: InvalidArgument (e.g. a constraint violation) with DuckDB's text.
  Status AppendChunk(int64_t num_rows);
  // Writes the appended chunks into the table.
  Status Flush();
  // Flushes and closes; afterwards only destruction is allowed.
  Status Close();

  // For the module's implementation (internal::AppenderState is private to it).
  explicit Appender(std::unique_ptr<internal::AppenderState> state);

 private:
  friend class Connection;  // InsertFromChunks fills DuckDB's chunks through an Appender
  std::unique_ptr<internal::AppenderState> state_;
};

}  // namespace mixtera::duckdb
