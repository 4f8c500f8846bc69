#include "duckdb/scoped_setting.h"

#include <utility>

#include "base/macros.h"
#include "base/strings.h"

namespace mixtera::duckdb {

ScopedSetting::ScopedSetting(Connection* connection, std::string name)
    : connection_(connection), name_(std::move(name)) {}

ScopedSetting::ScopedSetting(ScopedSetting&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)), name_(std::move(other.name_)) {}

ScopedSetting::~ScopedSetting() { (void)Restore(); }

Result<ScopedSetting> ScopedSetting::Set(Connection* connection, const std::string& name,
                                         const std::string& value) {
  Status status =
      connection->Execute(StrCat("SET ", QuoteIdentifier(name), " = ", QuoteLiteral(value)));
  if (!status.ok()) {
    // DuckDB keeps a lowered memory_limit even when it cannot evict enough to meet it.
    (void)connection->ResetSetting(name);
    return status;
  }
  return ScopedSetting(connection, name);
}

Status ScopedSetting::Restore() {
  Connection* connection = std::exchange(connection_, nullptr);
  if (connection == nullptr) return Status::OK();
  return connection->ResetSetting(name_);
}

}  // namespace mixtera::duckdb
