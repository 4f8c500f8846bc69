// PreparedStatement: one SQL statement with parameters, bound by 1-based index (as in
// DuckDB: the first `?` is 1) and executed any number of times.
//
//   MIXTERA_ASSIGN_OR_RETURN(auto stmt, conn.Prepare("SELECT * FROM t WHERE name = ?"));
//   MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, "pile"));
//   MIXTERA_ASSIGN_OR_RETURN(auto result, stmt.Execute());
//
// Bindings persist across executions until rebound or ClearBindings().
// Thread safety: one thread at a time (it belongs to its connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "duckdb/query_result.h"
#include "mixtera/result.h"
#include "mixtera/status.h"

namespace mixtera::duckdb {

namespace internal {
struct PreparedState;
}  // namespace internal

class PreparedStatement {
 public:
  PreparedStatement(PreparedStatement&&) noexcept;
  PreparedStatement& operator=(PreparedStatement&&) noexcept;
  ~PreparedStatement();

  // Number of parameters.
  int64_t parameter_count() const;

  // Errors: InvalidArgument (index out of range, value not convertible to the parameter's
  // type) with DuckDB's text.
  Status BindInt64(int64_t index, int64_t value);
  Status BindDouble(int64_t index, double value);
  Status BindBool(int64_t index, bool value);
  Status BindString(int64_t index, std::string_view value);
  Status BindNull(int64_t index);
  // A BIT string of bits.size() bits; bit i (DuckDB's get_bit(b, i), 0-based from the left)
  // is bits[i]. Useful as a set of small integers: `get_bit(?::BIT, code) = 1`.
  Status BindBits(int64_t index, const std::vector<bool>& bits);
  Status ClearBindings();

  // Runs the statement and materializes the whole result.
  Result<QueryResult> Execute();
  // Runs the statement lazily: each NextChunk() of the result produces the next chunk, so a
  // large scan does not have to fit in memory. While a streaming result is open, the
  // connection must not run other queries (doing so invalidates the result).
  Result<QueryResult> ExecuteStreaming();

  // For the module's implementation (internal::PreparedState is private to it).
  explicit PreparedStatement(std::unique_ptr<internal::PreparedState> state);

 private:
  std::unique_ptr<internal::PreparedState> state_;
};

}  // namespace mixtera::duckdb
