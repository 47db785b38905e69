// otp::Result<T> — Erlang's {ok, Value} | {error, Reason} as a value.
//
// What an operation that may fail for an ordinary reason returns instead of
// throwing: the sockets (otp/net/tcp.hpp: `closed`, `timeout`, `econnrefused`,
// ...) and the Supervisor's child management (`running`, `not_found`). The
// error is an otp::Reason; compare it (`r.reason() == otp::Reason::timeout()`)
// or read `r.reason().to_string()`. Result<void> is `ok` or an error.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "otp/reason.hpp"

namespace otp {

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Reason reason) : reason_(std::move(reason)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  // Meaningful when !ok().
  const Reason& reason() const { return reason_; }
  // The value, or nothing when it failed: for a caller to whom every error means "none" (a
  // call to a session that is not there), the reason dropped.
  std::optional<T> to_optional() && { return std::move(value_); }
  // Erlang's rendering: {ok, ...} is not rendered; {error, econnrefused}.
  std::string to_string() const {
    return ok() ? std::string("ok") : "{error, " + reason_.to_string() + "}";
  }

 private:
  std::optional<T> value_;
  Reason reason_;
};

template <>
class Result<void> {
 public:
  Result() = default;
  Result(Reason reason)
      : failed_(true), reason_(std::move(reason)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Reason& reason() const { return reason_; }
  std::string to_string() const {
    return ok() ? std::string("ok") : "{error, " + reason_.to_string() + "}";
  }

 private:
  bool failed_ = false;
  Reason reason_;
};

}  // namespace otp
