// otp::net::Result<T> — Erlang's {ok, Value} | {error, Reason} as a value.
//
// The error is an otp::Reason named as Erlang's inet names it (an atom
// rendered by to_string()): `closed`, `timeout`, `econnrefused`, `nxdomain`,
// `econnreset`, `eaddrinuse`, `not_owner`, `einval`, ... Compare with
// `r.reason() == otp::net::error("econnrefused")` or read `r.reason().to_string()`.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "otp/reason.hpp"

namespace otp::net {

// The reason for an inet error atom: error("timeout") renders as `timeout`.
inline Reason error(std::string atom) { return Reason::other(std::move(atom)); }

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

}  // namespace otp::net
