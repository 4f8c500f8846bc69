// ScopedSetting: a global DuckDB setting changed for a while, then put back.
//
//   MIXTERA_ASSIGN_OR_RETURN(auto limit, ScopedSetting::Set(&conn, "memory_limit", "8MB"));
//   ...  // queries run with the 8 MB buffer pool
//   MIXTERA_RETURN_IF_ERROR(limit.Restore());  // or let the destructor restore it
//
// Global settings (memory_limit, threads, allocator_flush_threshold) are database-wide: every
// connection of the database sees the change while it lasts. Restoring goes back to the
// value the database was opened with, or DuckDB's default (Connection::ResetSetting), not to
// a value someone else SET in between: DuckDB prints sizes rounded, so reading the value
// back would not restore it exactly.
//
// Thread safety: like the connection it uses. The connection must outlive the object.
#pragma once

#include <string>

#include "duckdb/connection.h"
#include "mixtera/result.h"
#include "mixtera/status.h"

namespace mixtera::duckdb {

class ScopedSetting {
 public:
  // Runs SET name = 'value'. Errors: InvalidArgument for an unknown setting or a value
  // DuckDB rejects; IOError ("Out of Memory") for a memory_limit below what DuckDB holds
  // pinned. On error the setting is reset as Restore() would (DuckDB keeps a memory_limit it
  // could not meet).
  static Result<ScopedSetting> Set(Connection* connection, const std::string& name,
                                   const std::string& value);

  ScopedSetting(ScopedSetting&& other) noexcept;
  ScopedSetting& operator=(ScopedSetting&&) = delete;
  ScopedSetting(const ScopedSetting&) = delete;
  ScopedSetting& operator=(const ScopedSetting&) = delete;
  // Restores the setting unless Restore() already did; an error is dropped here (call
  // Restore() to see it).
  ~ScopedSetting();

  // Restores the setting now; later calls do nothing. Errors: DuckDB's.
  Status Restore();
  // True until Restore() ran (false for a moved-from object).
  bool active() const { return connection_ != nullptr; }

 private:
  ScopedSetting(Connection* connection, std::string name);

  Connection* connection_;  // null once restored
  std::string name_;
};

}  // namespace mixtera::duckdb
