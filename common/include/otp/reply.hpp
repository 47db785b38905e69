// What a call answers with: From (the caller of a deferred call), Reply and otp::noreply (what a
// handle_call taking a From returns), otp::reply (the deferred answer), Ok (the answer of a
// handler that returns void) and CallResult (a try_call's answer or failure).
//
// The reply travels to the caller's alias, the ref of the monitor the caller put on the server
// for the call: once the call has given up (timeout, Down), the alias is gone and a late reply
// is dropped instead of landing in the caller's mailbox.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/result.hpp"

namespace otp {

// The caller of a deferred call; answer it with otp::reply.
template <class R>
struct From {
  Pid caller;
  Ref ref;
};

struct NoReply {};
inline constexpr NoReply noreply{};

// What a handle_call(Req, From<R>) returns: the reply now, or otp::noreply.
template <class R>
class Reply {
 public:
  Reply(NoReply) {}  // NOLINT(google-explicit-constructor)
  template <class U>
  requires std::is_constructible_v<R, U&&> Reply(U&& v)
      : value_(std::forward<U>(v)) {}  // NOLINT(google-explicit-constructor)
  bool has_value() const { return value_.has_value(); }
  R take() { return std::move(*value_); }

 private:
  std::optional<R> value_;
};

// The outcome of a try_call: the reply, or the reason the call failed (timeout as
// Reason::timeout(), noproc, or the server's exit reason). One type with every other
// value-or-reason of the runtime.
template <class R>
using CallResult = Result<R>;

// The reply of a call whose handler returns void.
struct Ok {
  friend bool operator==(Ok, Ok) { return true; }
};

namespace detail {

template <class R>
struct CallReply {
  Ref ref;
  R value;
  bool unwatched = false;  // the callee dropped the caller's monitor
};

// The reply goes to the caller's alias (the call's monitor ref), so that it is
// dropped if the call has already given up.
template <class R>
void send_reply(const From<R>& to, R value) {
  const bool unwatched = unwatch(to.ref);
  send(Alias{to.caller, to.ref}, CallReply<R>{to.ref, std::move(value), unwatched});
}

}  // namespace detail

// Answers a deferred call. Any process may answer, once.
template <class R, class V>
void reply(const From<R>& to, V&& value) {
  detail::send_reply(to, R(std::forward<V>(value)));
}

}  // namespace otp

template <>
struct fmt::formatter<otp::Ok> : fmt::formatter<std::string_view> {
  auto format(otp::Ok, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(":ok", ctx);
  }
};
