// Module-private: the owners of DuckDB C handles and the conversion of DuckDB errors into
// Status. Only .cc files of the duckdb module include this header (it includes duckdb.h);
// the module's public headers forward-declare these types.
#pragma once

#include <duckdb.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duckdb/query_result.h"
#include "mixtera/status.h"

namespace mixtera::duckdb::internal {

// Owns a duckdb_database; closes it when the last owner (Database, Connection) is gone.
struct DatabaseHandle {
  duckdb_database db = nullptr;
  // The settings the database was opened with (name, value), for Connection::ResetSetting.
  std::vector<std::pair<std::string, std::string>> open_settings;
  ~DatabaseHandle() {
    if (db != nullptr) duckdb_close(&db);
  }
};

// Owns a duckdb_connection and keeps its database alive. Shared by the Connection and every
// statement, appender and streaming result created from it, so no destruction order is unsafe.
struct ConnectionHandle {
  std::shared_ptr<DatabaseHandle> database;
  duckdb_connection conn = nullptr;
  ~ConnectionHandle() {
    if (conn != nullptr) duckdb_disconnect(&conn);
  }
};

// Maps a DuckDB error type to our code (see connection.h for the table) and builds a Status
// whose message is DuckDB's text without its "LINE n:" SQL excerpt.
Status ErrorStatus(duckdb_error_type type, const char* message);

// The code ErrorStatus uses for `type`.
StatusCode ErrorCode(duckdb_error_type type);

// Our kind of a logical type, and a SQL-like name for messages ("BIGINT", "VARCHAR[]").
ColumnKind KindOf(duckdb_logical_type type);
std::string TypeName(duckdb_logical_type type);

// Wraps a successful duckdb_result (ownership moves into the QueryResult).
QueryResult MakeQueryResult(duckdb_result* result, std::shared_ptr<ConnectionHandle> conn);

}  // namespace mixtera::duckdb::internal
