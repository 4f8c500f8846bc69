// The Parquet half of the sample reader (through DuckDB) and ReadSampleTexts, which
// dispatches on the format; it lives in mixtera::formats_parquet so that mixtera::formats
// does not need DuckDB.
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"
#include "formats/sample_reader.h"

namespace mixtera::formats {
namespace {

// Wanted rows further apart than this are fetched by separate queries, so the row groups
// between them are not decoded (DuckDB skips row groups whose file_row_number range misses
// the query's BETWEEN bounds); closer rows share one query.
constexpr int64_t kMaxRowGapPerQuery = 1 << 16;

// The reader's in-memory DuckDB instance: one per process (opening one costs tens of
// milliseconds), single-threaded so a streaming query runs in the thread that fetches from
// it, and one cached connection per thread (a connection costs about a millisecond). A child
// process after fork() opens its own (the inherited instance may hold locks of threads that do
// not exist in the child, so it is deliberately leaked there).
Result<duckdb::Connection*> ThreadConnection() {
  static std::mutex mu;
  static duckdb::Database* db = nullptr;
  static pid_t db_owner = 0;
  thread_local std::optional<duckdb::Connection> conn;
  thread_local pid_t conn_owner = 0;
  const pid_t pid = ::getpid();
  if (conn.has_value() && conn_owner == pid) return &*conn;
  if (conn.has_value()) {
    // Inherited across fork(): leak it, like the instance it belongs to.
    new duckdb::Connection(std::move(*conn));
    conn.reset();
  }
  std::lock_guard<std::mutex> lock(mu);
  if (db == nullptr || db_owner != pid) {
    duckdb::DatabaseOptions options;
    options.threads = 1;
    MIXTERA_ASSIGN_OR_RETURN(duckdb::Database opened, duckdb::Database::Open(":memory:", options));
    db = new duckdb::Database(std::move(opened));  // lives until exit
    db_owner = pid;
  }
  MIXTERA_ASSIGN_OR_RETURN(duckdb::Connection c, db->Connect());
  conn.emplace(std::move(c));
  conn_owner = pid;
  return &*conn;
}

// DuckDB failed on `file`: IOError and Cancelled keep their code, a missing file is NotFound,
// anything else means the file is not valid Parquet.
Status FileError(const SampleFile& file, const Status& st) {
  if (st.code() == StatusCode::kIOError || st.code() == StatusCode::kCancelled) {
    return Status(st.code(), StrCat(file.path, ": ", st.message()));
  }
  return Status::Corruption(StrCat(file.path, ": not a valid Parquet file: ", st.message()));
}

// Explains why selecting the text columns failed to bind: a missing column (InvalidArgument
// listing the file's columns) or an unreadable file.
Status ExplainBindError(duckdb::Connection* conn, const SampleFile& file, const Status& st) {
  auto describe = conn->Prepare("SELECT * FROM read_parquet(?) LIMIT 0");
  if (!describe.ok()) return describe.status();
  MIXTERA_RETURN_IF_ERROR(describe->BindString(1, file.path));
  auto schema = describe->Execute();
  if (!schema.ok()) return FileError(file, schema.status());
  std::vector<std::string> names;
  for (int i = 0; i < schema->column_count(); ++i) names.push_back(schema->column_name(i));
  for (const std::string& column : file.text_fields) {
    if (std::find(names.begin(), names.end(), column) != names.end()) continue;
    if (names.size() > 20) {
      names.resize(20);
      names.push_back("...");
    }
    return Status::InvalidArgument(
        StrCat(file.path, ": no text column '", column, "' (columns: ", StrJoin(names, ", "), ")"));
  }
  return FileError(file, st);
}

// The file's number of rows, from its metadata.
Result<int64_t> NumRows(duckdb::Connection* conn, const SampleFile& file) {
  MIXTERA_ASSIGN_OR_RETURN(auto stmt, conn->Prepare("SELECT count(*) FROM read_parquet(?)"));
  MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, file.path));
  auto result = stmt.Execute();
  if (!result.ok()) return FileError(file, result.status());
  auto more = result->NextChunk();
  if (!more.ok()) return FileError(file, more.status());
  if (!*more || result->chunk_size() != 1) return Status::Internal("count(*) returned no row");
  return result->GetInt64(0, 0);
}

}  // namespace

namespace {

// The Parquet reader: texts, or with `records` every column as one JSON object.
Result<std::vector<std::string>> ReadParquet(const SampleFile& file,
                                             const std::vector<uint32_t>& sample_ids,
                                             bool records) {
  if (!records && file.text_fields.empty()) {
    return Status::InvalidArgument(
        StrCat(file.path, ": the dataset declares no text field, so there is no text to read"));
  }
  std::vector<std::string> texts(sample_ids.size());
  if (sample_ids.empty()) return texts;
  MIXTERA_ASSIGN_OR_RETURN(duckdb::Connection * conn, ThreadConnection());

  // $1 path, $2/$3 the first and last wanted row of a group. DuckDB decodes the row groups
  // holding that span once and returns its rows; the wanted ones are picked here (a filter in
  // the query costs more: the text column is decoded whole either way).
  std::string sql = "SELECT t.file_row_number";
  const std::vector<std::string> columns =
      records ? std::vector<std::string>{"to_json(t)::VARCHAR"} : file.text_fields;
  for (const std::string& column : file.text_fields) {
    if (!records) sql += StrCat(", t.", duckdb::QuoteIdentifier(column));
  }
  if (records) sql += ", to_json(t)::VARCHAR";
  sql +=
      " FROM read_parquet($1, file_row_number = true) t WHERE t.file_row_number BETWEEN $2 AND"
      " $3";
  MIXTERA_ASSIGN_OR_RETURN(auto stmt, conn->Prepare(sql));
  MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, file.path));

  std::vector<bool> found(sample_ids.size(), false);
  // slot[row - lo]: the index in sample_ids of a wanted row, or -1.
  std::vector<int64_t> slot;
  for (size_t first = 0; first < sample_ids.size();) {
    size_t last = first + 1;  // the group is sample_ids[first, last)
    while (last < sample_ids.size() &&
           int64_t{sample_ids[last]} - sample_ids[last - 1] <= kMaxRowGapPerQuery) {
      ++last;
    }
    const int64_t lo = sample_ids[first];
    const int64_t hi = sample_ids[last - 1];
    slot.assign(static_cast<size_t>(hi - lo + 1), -1);
    for (size_t i = first; i < last; ++i) slot[sample_ids[i] - lo] = static_cast<int64_t>(i);
    MIXTERA_RETURN_IF_ERROR(stmt.BindInt64(2, lo));
    MIXTERA_RETURN_IF_ERROR(stmt.BindInt64(3, hi));
    auto result = stmt.ExecuteStreaming();
    if (!result.ok()) {
      if (result.status().code() == StatusCode::kInvalidArgument) {
        return ExplainBindError(conn, file, result.status());
      }
      return FileError(file, result.status());
    }
    for (size_t f = 0; f < columns.size(); ++f) {
      if (result->column_kind(static_cast<int>(f) + 1) != duckdb::ColumnKind::kString) {
        return Status::InvalidArgument(
            StrCat(file.path, ": text column '", columns[f], "' has type ",
                   result->column_type_name(static_cast<int>(f) + 1), "; expected VARCHAR"));
      }
    }
    while (true) {
      auto more = result->NextChunk();
      if (!more.ok()) return FileError(file, more.status());
      if (!*more) break;
      for (int64_t r = 0; r < result->chunk_size(); ++r) {
        const int64_t row = result->GetInt64(0, r);
        if (row < lo || row > hi) {
          return Status::Internal(
              StrCat(file.path, ": DuckDB returned row ", row, ", outside [", lo, ", ", hi, "]"));
        }
        if (slot[static_cast<size_t>(row - lo)] < 0) continue;  // in the span, not wanted
        const auto index = static_cast<size_t>(slot[static_cast<size_t>(row - lo)]);
        std::string& text = texts[index];
        text.clear();
        for (size_t f = 0; f < columns.size(); ++f) {
          const int col = static_cast<int>(f) + 1;
          if (result->IsNull(col, r)) {
            return Status::InvalidArgument(
                StrCat(file.path, ": sample ", row, ": text column '", columns[f], "' is NULL"));
          }
          if (f > 0) text.append(kTextFieldSeparator);
          text.append(result->GetString(col, r));
        }
        found[index] = true;
      }
    }
    first = last;
  }

  for (size_t i = 0; i < sample_ids.size(); ++i) {
    if (found[i]) continue;
    MIXTERA_ASSIGN_OR_RETURN(int64_t num_rows, NumRows(conn, file));
    if (sample_ids[i] >= num_rows) {
      return Status::OutOfRange(StrCat(file.path, ": sample ", sample_ids[i],
                                       " is beyond the file, which has ", num_rows, " rows"));
    }
    return Status::Internal(StrCat(file.path, ": DuckDB returned no row ", sample_ids[i]));
  }
  return texts;
}

}  // namespace

Result<std::vector<std::string>> ReadParquetSampleTexts(const SampleFile& file,
                                                        const std::vector<uint32_t>& sample_ids) {
  return ReadParquet(file, sample_ids, /*records=*/false);
}

Result<std::vector<std::string>> ReadParquetSampleRecords(const SampleFile& file,
                                                          const std::vector<uint32_t>& sample_ids) {
  return ReadParquet(file, sample_ids, /*records=*/true);
}

Result<std::vector<std::string>> ReadSampleRecords(const SampleFile& file,
                                                   const std::vector<uint32_t>& sample_ids,
                                                   ReaderCache* cache) {
  MIXTERA_RETURN_IF_ERROR(CheckSampleIds(file, sample_ids));
  MIXTERA_RETURN_IF_ERROR(CheckSampleFile(file));
  if (file.format == "jsonl" || file.format == "webdataset") {
    return ReadByteSamples(file, sample_ids, /*records=*/true, cache);
  }
  if (file.format == "parquet") return ReadParquetSampleRecords(file, sample_ids);
  return Status::InvalidArgument(StrCat(file.path, ": unknown format '", file.format,
                                        "' (known: jsonl, parquet, webdataset)"));
}

Result<std::vector<std::string>> ReadSampleTexts(const SampleFile& file,
                                                 const std::vector<uint32_t>& sample_ids,
                                                 ReaderCache* cache) {
  MIXTERA_RETURN_IF_ERROR(CheckSampleIds(file, sample_ids));
  MIXTERA_RETURN_IF_ERROR(CheckSampleFile(file));
  if (file.format == "jsonl" || file.format == "webdataset") {
    return ReadByteSamples(file, sample_ids, /*records=*/false, cache);
  }
  if (file.format == "parquet") return ReadParquetSampleTexts(file, sample_ids);
  return Status::InvalidArgument(StrCat(file.path, ": unknown format '", file.format,
                                        "' (known: jsonl, parquet, webdataset)"));
}

}  // namespace mixtera::formats
