#include "formats/parquet_scanner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"

namespace mixtera::formats {

namespace {

using duckdb::ColumnKind;
using model::PropertyType;

// The column kinds a property type accepts.
bool Accepts(PropertyType type, ColumnKind kind) {
  switch (type) {
    case PropertyType::kString:
    case PropertyType::kEnum:
      return kind == ColumnKind::kString;
    case PropertyType::kInt:
      return kind == ColumnKind::kInteger;
    case PropertyType::kFloat:
      return kind == ColumnKind::kFloat || kind == ColumnKind::kInteger;
    case PropertyType::kBool:
      return kind == ColumnKind::kBoolean;
    case PropertyType::kStringList:
      return kind == ColumnKind::kStringList || kind == ColumnKind::kString;
  }
  return false;
}

std::string_view Expected(PropertyType type) {
  switch (type) {
    case PropertyType::kString:
    case PropertyType::kEnum:
      return "VARCHAR";
    case PropertyType::kInt:
      return "an integer type";
    case PropertyType::kFloat:
      return "FLOAT, DOUBLE or an integer type";
    case PropertyType::kBool:
      return "BOOLEAN";
    case PropertyType::kStringList:
      return "VARCHAR[] or VARCHAR";
  }
  return "?";
}

// DuckDB failed while reading `path`: IOError stays IOError, anything else means the file
// is not valid Parquet.
Status FileError(const std::string& path, const Status& st) {
  if (st.code() == StatusCode::kIOError || st.code() == StatusCode::kCancelled) {
    return Status(st.code(), StrCat(path, ": ", st.message()));
  }
  return Status::Corruption(StrCat(path, ": not a valid Parquet file: ", st.message()));
}

// Opening a DuckDB instance costs tens of milliseconds, a connection about one, so all
// scanners of a process share one in-memory instance with one connection each. The instance
// has a single thread: a streaming query then runs in the thread that fetches from it, which
// keeps rows in file order and lets scanners on different threads run in parallel. A child
// process after fork() gets an instance of its own (the inherited one may hold locks of
// threads that do not exist in the child; it is deliberately leaked there).
Result<duckdb::Connection> ConnectShared() {
  static std::mutex mu;
  static duckdb::Database* db = nullptr;
  static pid_t owner = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (db == nullptr || owner != ::getpid()) {
    duckdb::DatabaseOptions options;
    options.threads = 1;
    MIXTERA_ASSIGN_OR_RETURN(duckdb::Database opened, duckdb::Database::Open(":memory:", options));
    db = new duckdb::Database(std::move(opened));  // lives until exit; connections share it
    owner = ::getpid();
  }
  return db->Connect();
}

}  // namespace

struct ParquetScanner::State {
  std::string path;
  int64_t file_id = 0;
  std::vector<model::PropertySchema> properties;
  int64_t max_rows = kDefaultMaxRowsPerCall;

  std::optional<duckdb::Connection> conn;
  std::optional<duckdb::PreparedStatement> stmt;
  std::optional<duckdb::QueryResult> result;  // column 0: file_row_number; 1 + i: property i

  // Per property: the column's kind, and for enums the sorted allowed values.
  std::vector<ColumnKind> kinds;
  std::vector<std::vector<std::string>> sorted_enum_values;

  bool has_chunk = false;
  int64_t chunk_row = 0;
  bool done = false;
  int64_t last_row_number = -1;

  std::string RowPrefix(int64_t row, const model::PropertySchema& p) const {
    return StrCat(path, ": row ", row, ": property '", p.name, "'");
  }
};

ParquetScanner::ParquetScanner(std::unique_ptr<State> state) : state_(std::move(state)) {}
ParquetScanner::~ParquetScanner() {
  if (state_ == nullptr) return;
  // Destroy in dependency order: the streaming result before its statement and connection.
  state_->result.reset();
  state_->stmt.reset();
  state_->conn.reset();
}

Result<std::unique_ptr<ParquetScanner>> ParquetScanner::Open(
    const std::string& path, int64_t file_id, const std::vector<model::PropertySchema>& properties,
    const std::vector<std::string>& text_columns, int64_t max_rows_per_call) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound(StrCat(path, ": no such file"));
    return Status::IOError(StrCat(path, ": ", std::strerror(err)));
  }
  if (S_ISDIR(st.st_mode)) return Status::IOError(StrCat(path, ": is a directory"));

  auto state = std::make_unique<State>();
  state->path = path;
  state->file_id = file_id;
  state->properties = properties;
  state->max_rows = std::max<int64_t>(1, max_rows_per_call);

  MIXTERA_ASSIGN_OR_RETURN(duckdb::Connection conn, ConnectShared());
  state->conn.emplace(std::move(conn));

  // The file's schema.
  std::map<std::string, std::pair<ColumnKind, std::string>> columns;  // name -> kind, type
  std::vector<std::string> column_names;
  {
    MIXTERA_ASSIGN_OR_RETURN(auto describe,
                             state->conn->Prepare("SELECT * FROM read_parquet(?) LIMIT 0"));
    MIXTERA_RETURN_IF_ERROR(describe.BindString(1, path));
    auto schema = describe.Execute();
    if (!schema.ok()) return FileError(path, schema.status());
    for (int i = 0; i < schema->column_count(); ++i) {
      columns[schema->column_name(i)] = {schema->column_kind(i), schema->column_type_name(i)};
      column_names.push_back(schema->column_name(i));
    }
  }
  auto missing = [&](const std::string& column, const std::string& what) {
    std::vector<std::string> shown(
        column_names.begin(), column_names.begin() + std::min<size_t>(column_names.size(), 20));
    if (shown.size() < column_names.size()) shown.push_back("...");
    return Status::InvalidArgument(StrCat(path, ": no column '", column, "' for ", what,
                                          " (columns: ", StrJoin(shown, ", "), ")"));
  };

  std::string sql = "SELECT file_row_number";
  for (const auto& p : properties) {
    const std::string& column = p.field.empty() ? p.name : p.field;
    auto it = columns.find(column);
    if (it == columns.end()) return missing(column, StrCat("property '", p.name, "'"));
    const auto& [kind, type_name] = it->second;
    if (!Accepts(p.type, kind)) {
      return Status::InvalidArgument(
          StrCat(path, ": column '", column, "' for ", model::PropertyTypeName(p.type),
                 " property '", p.name, "' has type ", type_name, "; expected ", Expected(p.type)));
    }
    state->kinds.push_back(kind);
    std::vector<std::string> values = p.enum_values;
    std::sort(values.begin(), values.end());
    state->sorted_enum_values.push_back(std::move(values));
    sql += StrCat(", ", duckdb::QuoteIdentifier(column));
  }
  for (const auto& column : text_columns) {
    auto it = columns.find(column);
    if (it == columns.end()) return missing(column, "the text");
    if (it->second.first != ColumnKind::kString) {
      return Status::InvalidArgument(StrCat(path, ": text column '", column, "' has type ",
                                            it->second.second, "; expected VARCHAR"));
    }
  }
  sql += " FROM read_parquet(?, file_row_number = true)";

  MIXTERA_ASSIGN_OR_RETURN(auto stmt, state->conn->Prepare(sql));
  state->stmt.emplace(std::move(stmt));
  MIXTERA_RETURN_IF_ERROR(state->stmt->BindString(1, path));
  auto result = state->stmt->ExecuteStreaming();
  if (!result.ok()) return FileError(path, result.status());
  state->result.emplace(std::move(result).value());
  return std::unique_ptr<ParquetScanner>(new ParquetScanner(std::move(state)));
}

Status ParquetScanner::ExtractRow(int64_t row, int64_t row_number, model::SampleBatch* batch) {
  const State& s = *state_;
  const duckdb::QueryResult& r = *s.result;
  for (size_t i = 0; i < s.properties.size(); ++i) {
    const model::PropertySchema& p = s.properties[i];
    model::PropertyColumn& column = batch->columns[i];
    const int col = static_cast<int>(i) + 1;
    if (r.IsNull(col, row)) {
      if (!p.nullable) {
        return Status::InvalidArgument(
            StrCat(s.RowPrefix(row_number, p), " is NULL but the property is not nullable"));
      }
      column.AppendNull();
      continue;
    }
    switch (p.type) {
      case PropertyType::kString:
        column.AppendString(r.GetString(col, row));
        break;
      case PropertyType::kEnum: {
        std::string_view v = r.GetString(col, row);
        const auto& values = s.sorted_enum_values[i];
        auto it = std::lower_bound(values.begin(), values.end(), v,
                                   [](const std::string& a, std::string_view b) { return a < b; });
        if (it == values.end() || *it != v) {
          return Status::InvalidArgument(StrCat(s.RowPrefix(row_number, p), " has value ",
                                                JsonQuote(v), ", which is not one of its values (",
                                                StrJoin(p.enum_values, ", "), ")"));
        }
        column.AppendString(v);
        break;
      }
      case PropertyType::kInt: {
        int64_t v = 0;
        if (!r.TryGetInt64(col, row, &v)) {
          return Status::InvalidArgument(
              StrCat(s.RowPrefix(row_number, p), " has a value above the int64 range"));
        }
        column.AppendInt(v);
        break;
      }
      case PropertyType::kFloat:
        column.AppendFloat(r.GetDouble(col, row));
        break;
      case PropertyType::kBool:
        column.AppendBool(r.GetBool(col, row));
        break;
      case PropertyType::kStringList: {
        column.BeginList();
        if (s.kinds[i] == ColumnKind::kString) {
          column.AppendListItem(r.GetString(col, row));
        } else {
          const int64_t n = r.ListSize(col, row);
          for (int64_t k = 0; k < n; ++k) {
            if (r.IsListItemNull(col, row, k)) {
              return Status::InvalidArgument(
                  StrCat(s.RowPrefix(row_number, p), " has a NULL list item at index ", k));
            }
            column.AppendListItem(r.GetListString(col, row, k));
          }
        }
        column.EndList();
        break;
      }
    }
  }
  return Status::OK();
}

Result<bool> ParquetScanner::Next(model::SampleBatch* batch, const BadRowHandler& on_bad_row) {
  State& s = *state_;
  if (batch->columns.empty() && batch->num_rows() == 0) {
    *batch = model::SampleBatch(s.file_id, s.properties);
  }
  if (batch->file_id != s.file_id || batch->columns.size() != s.properties.size()) {
    return Status::InvalidArgument(StrCat(
        s.path, ": batch was not built for this file (file id ", batch->file_id, ", ",
        batch->columns.size(), " columns; expected ", s.file_id, ", ", s.properties.size(), ")"));
  }
  for (size_t i = 0; i < s.properties.size(); ++i) {
    if (batch->columns[i].type() != s.properties[i].type) {
      return Status::InvalidArgument(StrCat(s.path, ": batch column ", i, " has the wrong type"));
    }
  }
  if (s.done) return false;

  duckdb::QueryResult& r = *s.result;
  int64_t appended = 0;
  while (appended < s.max_rows) {
    if (!s.has_chunk || s.chunk_row >= r.chunk_size()) {
      auto more = r.NextChunk();
      if (!more.ok()) return FileError(s.path, more.status());
      if (!*more) {
        s.done = true;
        s.has_chunk = false;
        return false;
      }
      s.has_chunk = true;
      s.chunk_row = 0;
    }
    for (; s.chunk_row < r.chunk_size() && appended < s.max_rows; ++s.chunk_row) {
      const int64_t row = s.chunk_row;
      const int64_t row_number = r.GetInt64(0, row);
      if (row_number <= s.last_row_number) {
        return Status::Internal(
            StrCat(s.path, ": rows out of order (", row_number, " after ", s.last_row_number, ")"));
      }
      s.last_row_number = row_number;
      ++num_rows_;
      const size_t before = batch->num_rows();
      Status st = ExtractRow(row, row_number, batch);
      if (st.ok()) {
        batch->sample_ids.push_back(row_number);
        ++appended;
        continue;
      }
      batch->TruncateTo(before);
      Status handled = on_bad_row(row_number, st);
      if (!handled.ok()) {
        ++s.chunk_row;  // the row is consumed either way
        return handled;
      }
      ++num_skipped_;
    }
  }
  return true;
}

}  // namespace mixtera::formats
