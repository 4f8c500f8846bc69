// Result<T>: a value of type T or an error Status (Arrow's Result, Abseil's StatusOr).
//
//   mixtera::Result<int64_t> n = CountSamples(path);
//   if (!n.ok()) return n.status();
//   use(*n);
//
// A Result built from an OK status is a bug; it becomes an Internal error.
#pragma once

#include <cstdlib>
#include <optional>
#include <utility>

#include "mixtera/status.h"

namespace mixtera {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit from a value and from an error status, so functions can `return value;` and
  // `return Status::NotFound(...)`.
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK status");
  }
  // Deliberately no default constructor: `return {};` must not compile into an empty result.

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // REQUIRES: ok().
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

  // For tests and main() only: aborts with the message when not ok().
  T ValueOrDie() && {
    if (!ok()) Die();
    return std::move(*value_);
  }

 private:
  [[noreturn]] void Die() const;

  Status status_;
  std::optional<T> value_;
};

namespace internal {
[[noreturn]] void DieWithStatus(const Status& status);
}  // namespace internal

template <typename T>
void Result<T>::Die() const {
  internal::DieWithStatus(status_);
}

}  // namespace mixtera
