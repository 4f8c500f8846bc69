// Status: the outcome of an operation that can fail.
//
// Library code never throws; every fallible operation returns a Status or a Result<T>
// (see result.h). An OK status carries no allocation. An error carries a code from the
// short canonical set below and a message that says what failed, why and where (path plus
// line, row or tar member for data errors).
//
//   mixtera::Status s = store->RemoveDataset("pile");
//   if (!s.ok()) std::cerr << s.ToString() << "\n";
//
// Thread safety: const methods may be called concurrently; a Status is a value.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace mixtera {

// Canonical error codes (Abseil's guidance on choosing among them applies).
// The numeric values are stable: they cross the Python boundary.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,     // bad spec, options or request; the caller must change the input
  kNotFound = 2,            // unknown dataset, file, job or property; a missing path
  kAlreadyExists = 3,       // dataset or job registered twice
  kOutOfRange = 4,          // reading past the end
  kFailedPrecondition = 5,  // wrong state (e.g. a file changed since registration)
  kUnavailable = 6,         // server unreachable; safe to retry
  kCancelled = 7,           // the caller or a shutdown stopped the operation
  kIOError = 8,             // the OS or file system failed
  kCorruption = 9,          // malformed record, truncated archive, corrupt file
  kUnimplemented = 10,      // a format or feature that does not exist yet
  kInternal = 11,           // a bug: an invariant broke
};

// Returns the name of `code` without the leading k ("InvalidArgument").
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // Creates an OK status.
  Status() noexcept = default;
  Status(StatusCode code, std::string message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&& other) noexcept = default;
  Status& operator=(Status&& other) noexcept = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) {
    return {StatusCode::kAlreadyExists, std::move(msg)};
  }
  static Status OutOfRange(std::string msg) { return {StatusCode::kOutOfRange, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status Unimplemented(std::string msg) {
    return {StatusCode::kUnimplemented, std::move(msg)};
  }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // The message without the code; empty for OK.
  const std::string& message() const;

  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code() == StatusCode::kAlreadyExists; }
  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }

  // Returns a status with the same code whose message is "<context>: <message>".
  // OK stays OK.
  Status WithContext(std::string_view context) const;

  // "OK", or "<CodeName>: <message>".
  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

}  // namespace mixtera
