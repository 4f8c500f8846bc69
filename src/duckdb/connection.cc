#include "duckdb/connection.h"

#include <utility>
#include <vector>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/internal.h"

namespace mixtera::duckdb {

namespace internal {

StatusCode ErrorCode(duckdb_error_type type) {
  switch (type) {
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_OUT_OF_MEMORY:
      return StatusCode::kIOError;
    case DUCKDB_ERROR_INTERRUPT:
      return StatusCode::kCancelled;
    case DUCKDB_ERROR_TRANSACTION:
      return StatusCode::kFailedPrecondition;
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
      return StatusCode::kUnimplemented;
    case DUCKDB_ERROR_INTERNAL:
    case DUCKDB_ERROR_FATAL:
    case DUCKDB_ERROR_NULL_POINTER:
      return StatusCode::kInternal;
    default:
      return StatusCode::kInvalidArgument;
  }
}

Status ErrorStatus(duckdb_error_type type, const char* message) {
  std::string text = message != nullptr ? message : "unknown DuckDB error";
  // DuckDB appends "\n\nLINE 1: <sql>\n    ^" for errors with a query location; the excerpt
  // repeats the SQL we wrote and does not help a user.
  size_t line = text.find("\n\nLINE ");
  if (line != std::string::npos) text.resize(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return Status(ErrorCode(type), std::move(text));
}

}  // namespace internal

namespace {

// Runs `sql` and returns the raw result; the caller owns it on success.
Status RunQuery(internal::ConnectionHandle& conn, const std::string& sql, duckdb_result* out) {
  if (duckdb_query(conn.conn, sql.c_str(), out) == DuckDBSuccess) return Status::OK();
  Status status = internal::ErrorStatus(duckdb_result_error_type(out), duckdb_result_error(out));
  duckdb_destroy_result(out);
  return status;
}

}  // namespace

Database::Database(std::shared_ptr<internal::DatabaseHandle> handle) : handle_(std::move(handle)) {}
Database::~Database() = default;

Result<Database> Database::Open(const std::string& path, const DatabaseOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    return Status::Internal("duckdb_create_config failed");
  }
  struct ConfigGuard {
    duckdb_config* c;
    ~ConfigGuard() { duckdb_destroy_config(c); }
  } guard{&config};

  std::vector<std::pair<std::string, std::string>> settings = {
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
  };
  if (!options.memory_limit.empty()) settings.emplace_back("memory_limit", options.memory_limit);
  if (options.threads > 0) settings.emplace_back("threads", std::to_string(options.threads));
  for (const auto& [name, value] : settings) {
    if (duckdb_set_config(config, name.c_str(), value.c_str()) != DuckDBSuccess) {
      return Status::InvalidArgument(StrCat("DuckDB rejected setting ", name, "='", value, "'"));
    }
  }

  auto handle = std::make_shared<internal::DatabaseHandle>();
  handle->open_settings = std::move(settings);
  char* error = nullptr;
  if (duckdb_open_ext(path.c_str(), &handle->db, config, &error) != DuckDBSuccess) {
    std::string text = error != nullptr ? error : "unknown error";
    if (error != nullptr) duckdb_free(error);
    handle->db = nullptr;
    if (text.find("not a valid DuckDB database file") != std::string::npos) {
      return Status::Corruption(StrCat(path, ": ", text));
    }
    if (text.find("Invalid Input Error") != std::string::npos ||
        text.find("Invalid Configuration") != std::string::npos) {
      return Status::InvalidArgument(StrCat(path, ": ", text));
    }
    return Status::IOError(StrCat(path, ": ", text));
  }
  return Database(std::move(handle));
}

Result<Connection> Database::Connect() const {
  auto handle = std::make_shared<internal::ConnectionHandle>();
  handle->database = handle_;
  if (duckdb_connect(handle_->db, &handle->conn) != DuckDBSuccess) {
    handle->conn = nullptr;
    return Status::IOError("could not open a DuckDB connection");
  }
  return Connection(std::move(handle));
}

Connection::Connection(std::shared_ptr<internal::ConnectionHandle> handle)
    : handle_(std::move(handle)) {}
Connection::~Connection() = default;

Result<QueryResult> Connection::Query(const std::string& sql) {
  duckdb_result result;
  MIXTERA_RETURN_IF_ERROR(RunQuery(*handle_, sql, &result));
  return internal::MakeQueryResult(&result, handle_);
}

Status Connection::Execute(const std::string& sql) {
  duckdb_result result;
  MIXTERA_RETURN_IF_ERROR(RunQuery(*handle_, sql, &result));
  duckdb_destroy_result(&result);
  return Status::OK();
}

Status Connection::ResetSetting(const std::string& name) {
  for (const auto& [open_name, value] : handle_->database->open_settings) {
    if (open_name == name) {
      return Execute(StrCat("SET ", QuoteIdentifier(name), " = ", QuoteLiteral(value)));
    }
  }
  return Execute(StrCat("RESET ", QuoteIdentifier(name)));
}

Result<int64_t> Connection::QueryInt64(const std::string& sql) {
  MIXTERA_ASSIGN_OR_RETURN(QueryResult result, Query(sql));
  if (result.column_count() != 1 || result.column_kind(0) != ColumnKind::kInteger) {
    return Status::InvalidArgument(StrCat("expected one integer column from: ", sql));
  }
  MIXTERA_ASSIGN_OR_RETURN(bool has_chunk, result.NextChunk());
  if (!has_chunk || result.chunk_size() != 1 || result.IsNull(0, 0)) {
    return Status::InvalidArgument(StrCat("expected one non-NULL value from: ", sql));
  }
  int64_t value = 0;
  if (!result.TryGetInt64(0, 0, &value)) {
    return Status::InvalidArgument(StrCat("value out of int64 range from: ", sql));
  }
  return value;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

int64_t VectorSize() { return static_cast<int64_t>(duckdb_vector_size()); }

}  // namespace mixtera::duckdb
