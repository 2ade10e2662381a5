// Result<T>: a value or the Status explaining why there is none
// (the shape of absl::StatusOr). Thread-safe as a value type.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "common/status.h"

namespace quanyu {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "Result constructed from an OK status without a value");
    if (status_.ok()) status_ = Status::Internal("Result constructed from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace quanyu

// Evaluates `rexpr` (a Result<T>); on error returns its Status, otherwise
// move-assigns the value to `lhs` (which may be a declaration).
#define ASSIGN_OR_RETURN(lhs, rexpr)                                                          \
  auto QY_CONCAT(qy_result_, __LINE__) = (rexpr);                                             \
  if (!QY_CONCAT(qy_result_, __LINE__).ok()) return QY_CONCAT(qy_result_, __LINE__).status(); \
  lhs = std::move(QY_CONCAT(qy_result_, __LINE__)).value()
