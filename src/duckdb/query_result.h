// QueryResult: the rows of a query, read one data chunk (up to VectorSize() rows) at a
// time through typed accessors.
//
//   MIXTERA_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT name, n FROM t"));
//   while (true) {
//     MIXTERA_ASSIGN_OR_RETURN(bool more, r.NextChunk());
//     if (!more) break;
//     for (int64_t row = 0; row < r.chunk_size(); ++row)
//       if (!r.IsNull(1, row)) use(r.GetString(0, row), r.GetInt64(1, row));
//   }
//
// Accessors take a column index in [0, column_count()) and a row in [0, chunk_size()) of the
// current chunk; string views stay valid until the next NextChunk() call. Calling an
// accessor of the wrong kind, or with an index out of range, is a bug and aborts.
//
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "mixtera/status.h"

namespace mixtera::duckdb {

namespace internal {
struct ResultState;
}  // namespace internal

// How a column's values are read. Serialized nowhere.
enum class ColumnKind : uint8_t {
  kString,      // VARCHAR: GetString
  kInteger,     // TINYINT..BIGINT, UTINYINT..UBIGINT: GetInt64 / TryGetInt64, GetDouble
  kFloat,       // FLOAT, DOUBLE: GetDouble
  kBoolean,     // BOOLEAN: GetBool
  kStringList,  // VARCHAR[]: ListSize, IsListItemNull, GetListString
  kOther,       // anything else (DECIMAL, HUGEINT, DATE, BLOB, STRUCT, other lists, ...)
};

// "string", "integer", "float", "boolean", "string_list", "other".
std::string_view ColumnKindName(ColumnKind kind);

class QueryResult {
 public:
  QueryResult(QueryResult&&) noexcept;
  QueryResult& operator=(QueryResult&&) noexcept;
  ~QueryResult();

  int column_count() const;
  const std::string& column_name(int col) const;
  ColumnKind column_kind(int col) const;
  // DuckDB's type as SQL-like text, for messages: "BIGINT", "VARCHAR[]", "DECIMAL", ...
  const std::string& column_type_name(int col) const;
  // For INSERT/UPDATE/DELETE: the number of rows changed; 0 otherwise.
  int64_t rows_changed() const;

  // Loads the next chunk. Returns false after the last one. For a streaming result this is
  // where the query runs, so errors of the query itself (e.g. a corrupt file) appear here.
  Result<bool> NextChunk();
  // Rows in the current chunk (0 before the first NextChunk()).
  int64_t chunk_size() const;

  bool IsNull(int col, int64_t row) const;
  // kInteger. A UBIGINT above INT64_MAX wraps; use TryGetInt64 where that matters.
  int64_t GetInt64(int col, int64_t row) const;
  // kInteger. False (and *out untouched) when the value does not fit in int64.
  bool TryGetInt64(int col, int64_t row, int64_t* out) const;
  // kFloat or kInteger.
  double GetDouble(int col, int64_t row) const;
  // kBoolean.
  bool GetBool(int col, int64_t row) const;
  // kString.
  std::string_view GetString(int col, int64_t row) const;
  // kStringList: the number of items of a non-NULL list, whether item i is NULL, item i.
  int64_t ListSize(int col, int64_t row) const;
  bool IsListItemNull(int col, int64_t row, int64_t i) const;
  std::string_view GetListString(int col, int64_t row, int64_t i) const;

  // Raw views of the current chunk for hot loops (valid until the next NextChunk()).
  // raw_type(col) says how to read RawData: kInt32 -> int32_t[chunk_size()], kInt64 ->
  // int64_t[], kDouble -> double[], kBool -> bool[], kInt32List -> ListEntry[] whose items
  // are RawListChildData (int32_t[]) with RawListChildValidity. A validity pointer of
  // nullptr means every row is valid; otherwise row r is valid iff bit r is set.
  enum class RawType : uint8_t { kInt32, kInt64, kDouble, kBool, kInt32List, kOther };
  struct ListEntry {
    uint64_t offset;
    uint64_t length;
  };
  RawType raw_type(int col) const;
  const void* RawData(int col) const;
  const uint64_t* RawValidity(int col) const;
  const int32_t* RawListChildData(int col) const;
  const uint64_t* RawListChildValidity(int col) const;

  // For the module's implementation (internal::ResultState is private to it).
  explicit QueryResult(std::unique_ptr<internal::ResultState> state);

 private:
  std::unique_ptr<internal::ResultState> state_;
};

}  // namespace mixtera::duckdb
