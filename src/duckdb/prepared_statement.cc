#include "duckdb/prepared_statement.h"

#include <utility>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"
#include "duckdb/internal.h"

namespace mixtera::duckdb {

namespace internal {

struct PreparedState {
  std::shared_ptr<ConnectionHandle> conn;
  duckdb_prepared_statement stmt = nullptr;
  ~PreparedState() {
    if (stmt != nullptr) duckdb_destroy_prepare(&stmt);
  }
};

}  // namespace internal

namespace {

// DuckDB keeps the last bind error on the statement.
Status BindStatus(duckdb_state state, duckdb_prepared_statement stmt, int64_t index) {
  if (state == DuckDBSuccess) return Status::OK();
  const char* error = duckdb_prepare_error(stmt);
  return Status::InvalidArgument(
      StrCat("cannot bind parameter ", index, ": ", error != nullptr ? error : "bind failed"));
}

}  // namespace

Result<PreparedStatement> Connection::Prepare(const std::string& sql) {
  auto state = std::make_unique<internal::PreparedState>();
  state->conn = handle_;
  if (duckdb_prepare(handle_->conn, sql.c_str(), &state->stmt) != DuckDBSuccess) {
    const char* error = duckdb_prepare_error(state->stmt);
    // The C API reports no error type for a failed prepare; DuckDB's text names it.
    std::string text = error != nullptr ? error : "prepare failed";
    return internal::ErrorStatus(
        StartsWith(text, "IO Error") ? DUCKDB_ERROR_IO : DUCKDB_ERROR_INVALID_INPUT, text.c_str());
  }
  return PreparedStatement(std::move(state));
}

PreparedStatement::PreparedStatement(std::unique_ptr<internal::PreparedState> state)
    : state_(std::move(state)) {}
PreparedStatement::PreparedStatement(PreparedStatement&&) noexcept = default;
PreparedStatement& PreparedStatement::operator=(PreparedStatement&&) noexcept = default;
PreparedStatement::~PreparedStatement() = default;

int64_t PreparedStatement::parameter_count() const {
  return static_cast<int64_t>(duckdb_nparams(state_->stmt));
}

Status PreparedStatement::BindInt64(int64_t index, int64_t value) {
  return BindStatus(duckdb_bind_int64(state_->stmt, index, value), state_->stmt, index);
}

Status PreparedStatement::BindDouble(int64_t index, double value) {
  return BindStatus(duckdb_bind_double(state_->stmt, index, value), state_->stmt, index);
}

Status PreparedStatement::BindBool(int64_t index, bool value) {
  return BindStatus(duckdb_bind_boolean(state_->stmt, index, value), state_->stmt, index);
}

Status PreparedStatement::BindString(int64_t index, std::string_view value) {
  return BindStatus(duckdb_bind_varchar_length(state_->stmt, index, value.data(), value.size()),
                    state_->stmt, index);
}

Status PreparedStatement::BindNull(int64_t index) {
  return BindStatus(duckdb_bind_null(state_->stmt, index), state_->stmt, index);
}

Status PreparedStatement::BindBits(int64_t index, const std::vector<bool>& bits) {
  // DuckDB's BIT layout: byte 0 holds the number of padding bits p (0..7); the bits follow
  // from the most significant bit of byte 1 on, after p padding bits that are set to 1.
  const size_t n = bits.size();
  const size_t padding = (8 - n % 8) % 8;
  std::vector<uint8_t> data(1 + (padding + n + 7) / 8, 0);
  data[0] = static_cast<uint8_t>(padding);
  for (size_t i = 0; i < padding; ++i) data[1] |= static_cast<uint8_t>(0x80u >> i);
  for (size_t i = 0; i < n; ++i) {
    if (bits[i]) {
      const size_t pos = padding + i;
      data[1 + pos / 8] |= static_cast<uint8_t>(0x80u >> (pos % 8));
    }
  }
  duckdb_bit bit{data.data(), static_cast<idx_t>(data.size())};
  duckdb_value value = duckdb_create_bit(bit);  // copies the bytes
  if (value == nullptr) return Status::Internal("duckdb_create_bit failed");
  duckdb_state state = duckdb_bind_value(state_->stmt, index, value);
  duckdb_destroy_value(&value);
  return BindStatus(state, state_->stmt, index);
}

Status PreparedStatement::ClearBindings() {
  if (duckdb_clear_bindings(state_->stmt) != DuckDBSuccess) {
    return Status::Internal("duckdb_clear_bindings failed");
  }
  return Status::OK();
}

namespace {

Result<QueryResult> Finish(duckdb_state state, duckdb_result* result,
                           const std::shared_ptr<internal::ConnectionHandle>& conn) {
  if (state != DuckDBSuccess) {
    Status status =
        internal::ErrorStatus(duckdb_result_error_type(result), duckdb_result_error(result));
    duckdb_destroy_result(result);
    return status;
  }
  return internal::MakeQueryResult(result, conn);
}

}  // namespace

Result<QueryResult> PreparedStatement::Execute() {
  duckdb_result result;
  duckdb_state state = duckdb_execute_prepared(state_->stmt, &result);
  return Finish(state, &result, state_->conn);
}

Result<QueryResult> PreparedStatement::ExecuteStreaming() {
  duckdb_result result;
  // Deprecated in the C API but still the only way to get a streaming result in 1.4/1.5.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  duckdb_state state = duckdb_execute_prepared_streaming(state_->stmt, &result);
#pragma GCC diagnostic pop
  return Finish(state, &result, state_->conn);
}

}  // namespace mixtera::duckdb
