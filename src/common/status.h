// Status: the outcome of an operation that can fail, carried as a value.
//
// Every module boundary returns Status or Result<T> (see result.h); errors are
// never thrown across a module API. A Status is cheap to copy when OK (no
// allocation). Thread-safe as a value type.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace quanyu {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,  // the caller's input is malformed or violates a rule
  kNotFound,
  kAlreadyExists,
  kUnauthenticated,    // missing or unknown credentials
  kPermissionDenied,   // valid credentials, not allowed
  kPayloadTooLarge,    // a body, batch or event over its configured limit
  kResourceExhausted,  // back-pressure: retry later
  kUnavailable,        // shutting down or not ready
  kCorruption,         // persisted data failed a checksum or format check
  kIOError,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status PayloadTooLarge(std::string m) {
    return {StatusCode::kPayloadTooLarge, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace quanyu

#define QY_CONCAT_INNER(a, b) a##b
#define QY_CONCAT(a, b) QY_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::quanyu::Status qy_status_ = (expr);    \
    if (!qy_status_.ok()) return qy_status_; \
  } while (0)
