// Error-propagation macros.
//
// Caveats (as Arrow documents for its own): each macro expands to several statements, so it
// cannot be the unbraced body of an `if`; MIXTERA_ASSIGN_OR_RETURN moves its operand.
#pragma once

#include "mixtera/result.h"
#include "mixtera/status.h"

#define MIXTERA_CONCAT_INNER(a, b) a##b
#define MIXTERA_CONCAT(a, b) MIXTERA_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` (a Status) is not OK.
#define MIXTERA_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::mixtera::Status _mixtera_status = (expr);        \
    if (!_mixtera_status.ok()) return _mixtera_status; \
  } while (false)

#define MIXTERA_ASSIGN_OR_RETURN_IMPL(result_name, lhs, rexpr)   \
  auto result_name = (rexpr);                                    \
  if (!result_name.ok()) return std::move(result_name).status(); \
  lhs = std::move(result_name).value()

// Evaluates `rexpr` (a Result<T>); on error returns its status, else assigns the value to
// `lhs` (which may be a declaration: `MIXTERA_ASSIGN_OR_RETURN(auto x, F());`).
#define MIXTERA_ASSIGN_OR_RETURN(lhs, rexpr) \
  MIXTERA_ASSIGN_OR_RETURN_IMPL(MIXTERA_CONCAT(_mixtera_result_, __LINE__), lhs, rexpr)

// Aborts in every build when `cond` is false. Only for states that are impossible unless
// the code has a bug; never for anything user input or a file can trigger.
#define MIXTERA_CHECK(cond)                                                   \
  do {                                                                        \
    if (!(cond)) ::mixtera::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (false)

namespace mixtera::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace mixtera::internal
