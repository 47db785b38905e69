// The machinery of GenServer (otp/gen_server.hpp), shared with StateMachine and Task.
//
// The call protocol. A call monitors the server and uses the monitor's ref three ways: as the
// call's tag, as the alias the reply is sent to, and as the Down that ends the wait when the
// server dies. The request travels as one message, CallMsg<D, Req>, whose type carries a
// GenProtocol: the server type that can handle it (a server of another type exits with
// {bad_call, ...}) and the function that runs the handler. When the callee answers it drops the
// caller's monitor itself (unwatch) and says so in the reply, so that the caller has no
// demonitor to send; a reply that arrives after the call gave up finds the alias gone and is
// dropped. CallOp is the whole call as an awaitable in the caller's frame: resolve, monitor,
// send, wait for the reply, the Down or the timeout, and throw (or return) the failure once.
//
// Dispatch order in a server (Behaviour::triage in otp/detail/behaviour.hpp, then
// GenServer::handle): a protocol message (stop; a call or cast
// for another server type, which ends the server with {bad_call, ...} / {bad_cast, ...}; a call
// or cast, through its GenProtocol), then an Exit from the parent or from the runtime's
// shutdown, which the server only sees when it traps exits (stop with its reason), then
// handle_info for the types of the server's Info list, and Exit and Down when it takes them.
// Anything else is logged as unexpected and dropped.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/detail/msg.hpp"
#include "otp/names.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"
#include "otp/reply.hpp"
#include "otp/server_ref.hpp"

namespace otp {

namespace detail {

// What every behaviour protocol message's type carries (MsgType::protocol).
struct GenProtocol {
  enum class Kind : unsigned char { call, cast, stop };
  Kind kind;
  const void* server;  // the server type that can handle it (&server_tag<D>)
  // Handles m (and frees it) in server `self`. When the handler waits, stores
  // the coroutine to await in `wait`.
  void (*handle)(void* self, Msg* m, Co<void>& wait);
};

template <class D>
inline constexpr char server_tag = 0;

template <class T>
struct unwrap_co {
  using type = T;
  static constexpr bool is_co = false;
};
template <class T>
struct unwrap_co<Co<T>> {
  using type = T;
  static constexpr bool is_co = true;
};
template <class T>
struct unwrap_reply {
  using type = T;
  static constexpr bool deferred = false;
};
template <class T>
struct unwrap_reply<Reply<T>> {
  using type = T;
  static constexpr bool deferred = true;
};

// Stands for any From<R> when asking what a deferred handler returns.
struct AnyFrom {
  template <class R>
  operator From<R>() const;  // NOLINT(google-explicit-constructor); never defined
};

template <class D, class Req>
constexpr bool plain_call = requires(D& d, Req&& r) {
  d.handle_call(std::move(r));
};
template <class D, class Req>
constexpr bool from_call = requires(D& d, Req&& r) {
  d.handle_call(std::move(r), AnyFrom{});
};

template <class D, class Req>
auto call_result_of() {
  if constexpr (plain_call<D, Req>) {
    return std::type_identity<decltype(std::declval<D&>().handle_call(std::declval<Req&&>()))>{};
  } else if constexpr (from_call<D, Req>) {
    return std::type_identity<decltype(std::declval<D&>().handle_call(std::declval<Req&&>(),
                                                                      AnyFrom{}))>{};
  } else {
    static_assert(plain_call<D, Req>, "the server has no handle_call for this request type");
  }
}
// What handle_call returns, and what the caller gets (void -> Ok).
template <class D, class Req>
using call_return_t = typename decltype(call_result_of<D, Req>())::type;
template <class D, class Req>
using reply_t = std::conditional_t<
    std::is_void_v<typename unwrap_reply<typename unwrap_co<call_return_t<D, Req>>::type>::type>,
    Ok, typename unwrap_reply<typename unwrap_co<call_return_t<D, Req>>::type>::type>;

// Frees a message on scope exit.
struct MsgGuard {
  Msg* m;
  ~MsgGuard() {
    if (m != nullptr) free_msg(m);
  }
};

template <class D, class Req>
struct CallMsg {
  using R = reply_t<D, Req>;
  Req req;
  From<R> from;

  static Co<void> run_waiting(D& d, Req req, From<R> from) {
    using Ret = typename unwrap_co<call_return_t<D, Req>>::type;
    if constexpr (from_call<D, Req> && !plain_call<D, Req>) {
      Reply<R> r = co_await d.handle_call(std::move(req), from);
      if (r.has_value()) send_reply(from, r.take());
    } else if constexpr (std::is_void_v<Ret>) {
      co_await d.handle_call(std::move(req));
      send_reply(from, Ok{});
    } else {
      R r = co_await d.handle_call(std::move(req));
      send_reply(from, std::move(r));
    }
  }

  static void handle(void* self, Msg* m, Co<void>& wait) {
    D& d = *static_cast<D*>(self);
    MsgGuard guard{m};
    auto& msg = value_of<CallMsg>(m);
    From<R> from = msg.from;
    using Ret = call_return_t<D, Req>;
    if constexpr (unwrap_co<Ret>::is_co) {
      wait = run_waiting(d, std::move(msg.req), from);
    } else if constexpr (from_call<D, Req> && !plain_call<D, Req>) {
      Reply<R> r = d.handle_call(std::move(msg.req), from);
      if (r.has_value()) send_reply(from, r.take());
    } else if constexpr (std::is_void_v<Ret>) {
      d.handle_call(std::move(msg.req));
      send_reply(from, Ok{});
    } else {
      send_reply(from, R(d.handle_call(std::move(msg.req))));
    }
  }

  static constexpr GenProtocol protocol{GenProtocol::Kind::call, &server_tag<D>, &handle};
};

template <class D, class Req>
struct CastMsg {
  Req req;

  static Co<void> run_waiting(D& d, Req req) { co_await d.handle_cast(std::move(req)); }

  static void handle(void* self, Msg* m, Co<void>& wait) {
    D& d = *static_cast<D*>(self);
    MsgGuard guard{m};
    auto& msg = value_of<CastMsg>(m);
    if constexpr (unwrap_co<decltype(d.handle_cast(std::move(msg.req)))>::is_co) {
      wait = run_waiting(d, std::move(msg.req));
    } else {
      d.handle_cast(std::move(msg.req));
    }
  }

  static constexpr GenProtocol protocol{GenProtocol::Kind::cast, &server_tag<D>, &handle};
};

struct StopMsg {
  Reason reason;
  static constexpr GenProtocol protocol{GenProtocol::Kind::stop, nullptr, nullptr};
};

struct StartAck {
  Ref ref;
  StartResult result;
};

// The starter's half of the start protocol: waits for the new process's
// StartAck tagged `tag`, or for its Down when it dies first.
Start await_start(Pid child, Ref tag);
// Registers the calling process under `name`. When the holder is a process
// that a supervisor above it has already let go (it is bound to exit), waits
// for it to exit and takes the name then. The holder when the name stays taken.
Co<std::optional<Pid>> claim_name(Name name);

}  // namespace detail

namespace detail {

std::string timeout_text(Duration timeout);
// The exit a failed call raises in its caller.
[[noreturn]] void call_failed(Reason reason, std::string what);
Reason reason_of(const std::exception_ptr& e);

// The one reply wait: for the reply tagged `ref` or the Down of the monitor with the same ref,
// or until the timeout (found is then null). Calls (CallOp), Task's await, yield and shutdown,
// and stop (which waits for a Down alone) are built on it.
template <class R>
class [[nodiscard]] CallWait : public RawWait {
 public:
  CallWait(Ref ref, Duration t) : ref_(ref) {
    match = &matches;
    timeout = t;
  }

 protected:
  Ref ref_;

 private:
  static bool matches(Waiter* w, Msg* m) {
    Ref ref = static_cast<CallWait*>(w)->ref_;
    return (is<CallReply<R>>(m) && value_of<CallReply<R>>(m).ref == ref) ||
           (is<Down>(m) && value_of<Down>(m).ref == ref);
  }
};

// How a call keeps its destination: names as strings (a literal or a view
// may not outlive the awaitable), pids and Via names as they are.
template <class Dest>
using stored_dest_t =
    std::conditional_t<std::is_convertible_v<Dest, std::string_view> && !std::is_same_v<Dest, Pid>,
                       std::string, Dest>;

// A call in flight, as an awaitable: resolving the destination, monitoring the
// server (the monitor's ref tags the call and is the alias the reply is sent
// to; the alias ends with the monitor, so a late reply is dropped), sending, and waiting for the reply,
// the Down or the timeout all happen in the caller's frame, with no coroutine
// frame of its own. A failure is thrown once, from await_resume, straight into
// the caller.
template <class R, class Dest, class M, bool Throws = true>
class [[nodiscard]] CallOp : public CallWait<R> {
 public:
  // `function` and `what` name the call in a failure's message: GenServer.call(dest, what, timeout).
  CallOp(Dest dest, M msg, Duration t, std::string_view function, std::string_view what)
      : CallWait<R>(Ref{}, t),
        dest_(std::move(dest)),
        msg_(std::move(msg)),
        function_(function),
        what_(what) {}

  bool await_ready() noexcept {
    std::optional<Pid> pid;
    try {
      pid = whereis_dest(dest_);
    } catch (...) {  // e.g. a local name looked up outside any process
    }
    if (!pid) {
      failure_ = Reason::noproc();
      return true;
    }
    try {
      if (*pid == self()) {  // it would wait for itself: gen:call's calling_self
        failure_ = Reason::other("calling_self");
        return true;
      }
      this->ref_ = monitor_alias(*pid);
      msg_.from = From<R>{self(), this->ref_};
      send(*pid, std::move(msg_));
    } catch (...) {
      failure_ = Reason::exception("the call could not be sent");
      return true;
    }
    return CallWait<R>::await_ready();
  }

  auto await_resume() -> std::conditional_t<Throws, R, CallResult<R>> {
    Msg* got = CallWait<R>::await_resume();
    if (failure_) return fail(std::move(*failure_));
    if (got == nullptr) {
      demonitor(this->ref_, true);
      return fail(Reason::timeout());
    }
    MsgGuard guard{got};
    if (is<Down>(got)) return fail(value_of<Down>(got).reason);
    auto& reply = value_of<CallReply<R>>(got);
    if (reply.unwatched) {
      forget_monitor(this->ref_);
    } else {
      demonitor(this->ref_, true);
    }
    return std::move(reply.value);
  }

 private:
  auto fail(Reason r) -> std::conditional_t<Throws, R, CallResult<R>> {
    if constexpr (Throws) {
      call_failed(std::move(r), what_.empty()  // a request with no name of its own (sys's)
                                    ? fmt::format("{}({}, {})", function_, dest_text(dest_),
                                                  timeout_text(this->timeout))
                                    : fmt::format("{}({}, {}, {})", function_, dest_text(dest_),
                                                  what_, timeout_text(this->timeout)));
    } else {
      return CallResult<R>(std::move(r));
    }
  }
  Dest dest_;
  M msg_;
  std::string_view function_;
  std::string_view what_;
  std::optional<Reason> failure_;
};

}  // namespace detail

}  // namespace otp
