// Database and Connection: RAII wrappers over DuckDB's C API (the only code of the project
// that talks to DuckDB; DESIGN.md §2). Every fallible call returns a Status or Result that
// carries DuckDB's error text.
//
//   MIXTERA_ASSIGN_OR_RETURN(auto db, duckdb::Database::Open(":memory:"));
//   MIXTERA_ASSIGN_OR_RETURN(auto conn, db.Connect());
//   MIXTERA_RETURN_IF_ERROR(conn.Execute("CREATE TABLE t (x BIGINT)"));
//   MIXTERA_ASSIGN_OR_RETURN(auto result, conn.Query("SELECT count(*) FROM t"));
//
// Error codes (from DuckDB's error type): IO -> IOError; Interrupt -> Cancelled;
// Transaction -> FailedPrecondition; Not implemented -> Unimplemented; Internal, Fatal ->
// Internal; Out of memory -> IOError; everything else (parser, binder, catalog, constraint,
// conversion, invalid input, ...) -> InvalidArgument.
//
// Lifetimes: a Connection, and every statement, appender or result made from it, keeps the
// underlying DuckDB objects alive by shared ownership; they may be destroyed in any order.
//
// Thread safety: a Database may be shared; Connect() may be called from any thread. A
// Connection (and what it creates) is used by one thread at a time; use one connection per
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "duckdb/appender.h"
#include "duckdb/prepared_statement.h"
#include "duckdb/query_result.h"
#include "mixtera/result.h"
#include "mixtera/status.h"

namespace mixtera::duckdb {

namespace internal {
struct DatabaseHandle;
struct ConnectionHandle;
}  // namespace internal

struct DatabaseOptions {
  // DuckDB's memory_limit setting ("2GB", "512MB"). Default: "" = DuckDB's default (80% of
  // RAM). It bounds DuckDB's buffer manager, not the memory of results held by callers.
  std::string memory_limit;
  // Worker threads. Default: 0 = DuckDB's default (number of cores).
  int threads = 0;
};

class Connection;

class Database {
 public:
  // Opens (creating when missing) the database file at `path`, or an in-memory database for
  // ":memory:". Autoinstall and autoload of extensions are always off, so nothing is ever
  // downloaded. Errors: IOError with DuckDB's text (missing folder, file locked by another
  // process); Corruption when the file exists but is not a DuckDB database; InvalidArgument
  // for a bad option value.
  static Result<Database> Open(const std::string& path, const DatabaseOptions& options = {});

  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  ~Database();

  // Opens a new connection. Each connection has its own transaction state.
  Result<Connection> Connect() const;

 private:
  explicit Database(std::shared_ptr<internal::DatabaseHandle> handle);
  std::shared_ptr<internal::DatabaseHandle> handle_;
};

class Connection {
 public:
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  // Runs `sql` (one or more statements) and returns the materialized result of the last one.
  Result<QueryResult> Query(const std::string& sql);
  // Runs `sql` (one or more statements) and discards any result.
  Status Execute(const std::string& sql);
  // Runs `sql`, which must return exactly one row with one non-NULL integer column.
  // Errors: as Query; InvalidArgument when the shape or type differs.
  Result<int64_t> QueryInt64(const std::string& sql);

  // Sets the global setting `name` back to the value the database was opened with (the
  // DatabaseOptions, and autoinstall/autoload off), or to DuckDB's default for a setting the
  // options do not set. Errors: InvalidArgument for an unknown setting.
  Status ResetSetting(const std::string& name);

  // Prepares one statement with `?` or `$n` parameters.
  Result<PreparedStatement> Prepare(const std::string& sql);

  // Creates an appender on `table` (in `schema`, or the default schema when empty) over all
  // of the table's columns. See appender.h.
  Result<Appender> CreateAppender(const std::string& table, const std::string& schema = "");

  // Inserts into `table` (all columns) the rows that `fill` writes, chunk after chunk, in
  // one INSERT statement (so in the current transaction, or committed on success in
  // auto-commit mode). Each call of `fill` sets rows [0, n) of the empty chunk of `writer`
  // through its setters (never AppendChunk, Flush or Close) and returns n, or 0 when there
  // are no more rows. DuckDB writes full row groups to the database file while the insert
  // runs. `fill` runs on one thread at a time (not necessarily the calling one).
  // Errors: the first error `fill` returns; DuckDB's errors.
  Status InsertFromChunks(const std::string& table,
                          const std::function<Result<int64_t>(Appender& writer)>& fill);

  // Transaction control: BEGIN TRANSACTION / COMMIT / ROLLBACK.
  Status Begin() { return Execute("BEGIN TRANSACTION"); }
  Status Commit() { return Execute("COMMIT"); }
  Status Rollback() { return Execute("ROLLBACK"); }

 private:
  friend class Database;
  explicit Connection(std::shared_ptr<internal::ConnectionHandle> handle);
  std::shared_ptr<internal::ConnectionHandle> handle_;
};

// Returns `name` as a double-quoted SQL identifier ("a""b" for a"b).
std::string QuoteIdentifier(std::string_view name);
// Returns `value` as a single-quoted SQL string literal ('it''s').
std::string QuoteLiteral(std::string_view value);

// DuckDB's vector size: the number of rows in a full data chunk (2048).
int64_t VectorSize();

}  // namespace mixtera::duckdb
