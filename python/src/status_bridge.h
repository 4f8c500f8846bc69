// The one place where a mixtera::Status becomes a Python exception (style.md §2.4): each
// code maps to a class in mixtera.errors that also derives from the matching builtin.
#pragma once

#include <pybind11/pybind11.h>

#include "mixtera/result.h"
#include "mixtera/status.h"

namespace mixtera::python {

// Raises the Python exception for `status`. REQUIRES: !status.ok() and the GIL is held.
[[noreturn]] void ThrowStatus(const Status& status);

inline void ThrowIfError(const Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

template <typename T>
T ValueOrThrow(Result<T>&& result) {
  if (!result.ok()) ThrowStatus(result.status());
  return std::move(result).value();
}

}  // namespace mixtera::python
