// otp::GenServer — a process that holds a state and answers calls, casts and
// other messages one at a time (Elixir's GenServer).
//
//   class Stash : public otp::GenServer<Stash, User> {
//    public:
//     struct Get {};
//     struct Put { User user; };
//
//     static otp::Start start_link(std::string login) {
//       return GenServer::start_link(otp::Via{&registry, login + "_stash"}, std::move(login));
//     }
//
//     User init(const std::string& login) { return User{login}; }
//     User handle_call(Get) { return state(); }
//     void handle_cast(Put put) { state() = std::move(put.user); }
//   };
//
//   User u = co_await Stash::call(pid, Stash::Get{});   // inside a process
//   Stash::cast(pid, Stash::Put{u});
//
// Callbacks (public members of the derived class; all optional but init):
//   S init(args...)                      the initial state; throw or otp::exit(r) to fail the start
//   R handle_call(Req)                   reply with the result (void: reply `ok`)
//   otp::Reply<R> handle_call(Req, otp::From<R>)   may return otp::noreply and answer later with otp::reply
//   void handle_cast(Req)
//   void handle_info(T)                  for T in `using Info = otp::Messages<T...>`, and Exit / Down
//   void terminate(const otp::Reason&)   on stop, on a crash in a callback, and on the parent's exit
//                                        signal when the server traps exits
// Any callback may instead return otp::Co<...> and co_await inside (calls to
// other servers, receives): waiting never holds an OS thread.
//
// Calls are typed: Stash::call(dest, Get{}) knows from Stash::handle_call(Get)
// that it returns a User. The request carries a handler for Stash, so a server of
// another type that receives it crashes with {bad_call, ...}, as a GenServer
// without a matching clause would.
//
// A handler asks the server to stop after it returns with stop(reason). On
// stop, a crash or the parent's exit signal, terminate(reason) runs and the
// process exits with `reason`; reasons other than normal, shutdown and
// {shutdown, _} are logged as a crash report (reason, last message, state).
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/detail/msg.hpp"
#include "otp/detail/type_name.hpp"
#include "otp/logger.hpp"
#include "otp/names.hpp"
#include "otp/observer.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"

namespace otp {

inline constexpr Duration default_call_timeout = std::chrono::seconds(5);

// How a started process is named: not at all, a local name, or a Via name.
class Name {
 public:
  Name() = default;
  Name(Via via) : via_(std::move(via)) {}  // NOLINT(google-explicit-constructor): a Via is a name
  static Name local(std::string name) {
    Name n;
    n.local_ = std::move(name);
    return n;
  }

  bool empty() const { return local_.empty() && via_.registry == nullptr; }
  const std::string& local_name() const { return local_; }
  const Via& via() const { return via_; }
  std::optional<Pid> whereis() const;
  // Registers `pid` under this name; false when the name is taken.
  bool register_pid(const Pid& pid) const;
  std::string to_string() const { return via_.registry != nullptr ? via_.key : local_; }

 private:
  std::string local_;
  Via via_;
};

// What starting a process gives: Elixir's {:ok, pid}, :ignore or {:error, reason}.
class StartResult {
 public:
  enum class Kind : unsigned char { ok, ignore, already_started, error };

  static StartResult ok(Pid pid) { return StartResult{Kind::ok, pid, {}}; }
  static StartResult ignore() { return StartResult{Kind::ignore, {}, {}}; }
  static StartResult already_started(Pid pid) { return StartResult{Kind::already_started, pid, {}}; }
  static StartResult error(Reason reason) { return StartResult{Kind::error, {}, std::move(reason)}; }

  Kind kind() const { return kind_; }
  bool ok() const { return kind_ == Kind::ok; }
  explicit operator bool() const { return ok(); }
  // The started process (ok) or the one holding the name (already_started).
  Pid pid() const { return pid_; }
  // The error as a reason: {already_started, <0.1.0>} for already_started.
  Reason reason() const {
    if (kind_ == Kind::already_started) return Reason::other(fmt::format("{{already_started, {}}}", pid_));
    return reason_;
  }
  // Elixir's rendering: {:ok, <0.12.0>}, :ignore, {:error, {:already_started, <0.12.0>}}.
  std::string to_string() const;

 private:
  StartResult(Kind k, Pid p, Reason r) : kind_(k), pid_(p), reason_(std::move(r)) {}
  Kind kind_;
  Pid pid_;
  Reason reason_;
};

// What a start function returns: a coroutine that gives the StartResult, as in
// `static otp::Start start_link(std::string login)` (the same as otp::Start).
using Start = Co<StartResult>;

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
    requires std::is_constructible_v<R, U&&>
  Reply(U&& v) : value_(std::forward<U>(v)) {}  // NOLINT(google-explicit-constructor)
  bool has_value() const { return value_.has_value(); }
  R take() { return std::move(*value_); }

 private:
  std::optional<R> value_;
};

// The outcome of a try_call: the reply, or the reason the call failed.
template <class R>
class CallResult {
 public:
  CallResult(R value) : value_(std::move(value)) {}     // NOLINT(google-explicit-constructor)
  CallResult(Reason reason) : reason_(std::move(reason)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  R& value() { return *value_; }
  const R& value() const { return *value_; }
  // timeout as Reason::timeout(), noproc, or the server's exit reason.
  const Reason& reason() const { return reason_; }

 private:
  std::optional<R> value_;
  Reason reason_;
};

// A list of message types a GenServer takes in handle_info.
template <class... T>
struct Messages {};

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

namespace detail {

// What every behaviour protocol message's type carries (MsgType::protocol).
struct GenProtocol {
  enum class Kind : unsigned char { call, cast, stop };
  Kind kind;
  const void* server;  // the server type that can handle it (&server_tag<D>)
  // Handles m (and frees it) in server `self`. When the handler waits, stores
  // the coroutine to await in `wait` and returns true.
  bool (*handle)(void* self, Msg* m, Co<void>& wait);
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
constexpr bool plain_call = requires(D& d, Req&& r) { d.handle_call(std::move(r)); };
template <class D, class Req>
constexpr bool from_call = requires(D& d, Req&& r) { d.handle_call(std::move(r), AnyFrom{}); };

template <class D, class Req>
auto call_result_of() {
  if constexpr (plain_call<D, Req>) {
    return std::type_identity<decltype(std::declval<D&>().handle_call(std::declval<Req&&>()))>{};
  } else if constexpr (from_call<D, Req>) {
    return std::type_identity<decltype(std::declval<D&>().handle_call(std::declval<Req&&>(), AnyFrom{}))>{};
  } else {
    static_assert(plain_call<D, Req>, "the server has no handle_call for this request type");
  }
}
// What handle_call returns, and what the caller gets (void -> Ok).
template <class D, class Req>
using call_return_t = typename decltype(call_result_of<D, Req>())::type;
template <class D, class Req>
using reply_t = std::conditional_t<
    std::is_void_v<typename unwrap_reply<typename unwrap_co<call_return_t<D, Req>>::type>::type>, Ok,
    typename unwrap_reply<typename unwrap_co<call_return_t<D, Req>>::type>::type>;

struct Unit {};
template <class T>
using value_or_unit = std::conditional_t<std::is_void_v<T>, Unit, T>;

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

  static bool handle(void* self, Msg* m, Co<void>& wait) {
    D& d = *static_cast<D*>(self);
    MsgGuard guard{m};
    auto& msg = value_of<CallMsg>(m);
    From<R> from = msg.from;
    using Ret = call_return_t<D, Req>;
    if constexpr (unwrap_co<Ret>::is_co) {
      wait = run_waiting(d, std::move(msg.req), from);
      return true;
    } else if constexpr (from_call<D, Req> && !plain_call<D, Req>) {
      Reply<R> r = d.handle_call(std::move(msg.req), from);
      if (r.has_value()) send_reply(from, r.take());
    } else if constexpr (std::is_void_v<Ret>) {
      d.handle_call(std::move(msg.req));
      send_reply(from, Ok{});
    } else {
      send_reply(from, R(d.handle_call(std::move(msg.req))));
    }
    return false;
  }

  static constexpr GenProtocol protocol{GenProtocol::Kind::call, &server_tag<D>, &handle};
};

template <class D, class Req>
struct CastMsg {
  Req req;

  static Co<void> run_waiting(D& d, Req req) { co_await d.handle_cast(std::move(req)); }

  static bool handle(void* self, Msg* m, Co<void>& wait) {
    D& d = *static_cast<D*>(self);
    MsgGuard guard{m};
    auto& msg = value_of<CastMsg>(m);
    if constexpr (unwrap_co<decltype(d.handle_cast(std::move(msg.req)))>::is_co) {
      wait = run_waiting(d, std::move(msg.req));
      return true;
    } else {
      d.handle_cast(std::move(msg.req));
      return false;
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
class ServerRef;
namespace detail {
// Exactly a ServerRef (a template, so that nothing converts to one on the way).
template <std::same_as<ServerRef> R>
std::optional<Pid> whereis_dest(const R& r) {
  return r.whereis();
}
template <std::same_as<ServerRef> R>
std::string dest_text(const R& r) {
  return r.to_string();
}

// Where a call, cast or send may go: a pid, a Via name, or a local name.
inline std::optional<Pid> whereis_dest(const Pid& pid) { return pid ? std::optional<Pid>(pid) : std::nullopt; }
inline std::optional<Pid> whereis_dest(const Via& via) { return via.whereis(); }
inline std::optional<Pid> whereis_dest(const Name& name) { return name.whereis(); }
inline std::optional<Pid> whereis_dest(std::string_view name) { return otp::whereis(name); }
inline std::string dest_text(const Pid& pid) { return pid.to_string(); }
inline std::string dest_text(const Via& via) {
  return fmt::format("{{:via, {}, \"{}\"}}", via.registry->registry_name(), via.key);
}
inline std::string dest_text(const Name& name) { return name.to_string(); }
inline std::string dest_text(std::string_view name) { return std::string(name); }

template <class Dest>
concept Destination = requires(const Dest& d) { whereis_dest(d); };

}  // namespace detail

// Any destination as one value: a pid, a Via name or a local name (for APIs
// that are not templates, like the supervisors').
class ServerRef {
 public:
  ServerRef(Pid pid) : v_(pid) {}                       // NOLINT(google-explicit-constructor)
  ServerRef(Via via) : v_(std::move(via)) {}            // NOLINT(google-explicit-constructor)
  ServerRef(std::string name) : v_(std::move(name)) {}  // NOLINT(google-explicit-constructor)
  ServerRef(const char* name) : v_(std::string(name)) {}  // NOLINT(google-explicit-constructor)
  ServerRef(const Name& name) {                         // NOLINT(google-explicit-constructor)
    if (name.via().registry != nullptr) {
      v_ = name.via();
    } else {
      v_ = name.local_name();
    }
  }
  std::optional<Pid> whereis() const {
    return std::visit([](const auto& d) { return detail::whereis_dest(d); }, v_);
  }
  std::string to_string() const {
    return std::visit([](const auto& d) { return detail::dest_text(d); }, v_);
  }

 private:
  std::variant<Pid, Via, std::string> v_;
};

namespace detail {

std::string timeout_text(Duration timeout);
// The exit a failed call raises in its caller.
[[noreturn]] void call_failed(Reason reason, std::string what);
Reason reason_of(const std::exception_ptr& e);

// Waits for the reply tagged `ref` or the Down of the monitor with the same ref
// (for protocols that wait on a monitor of their own: Task).
template <class R>
class [[nodiscard]] CallWait : public Waiter {
 public:
  CallWait(Ref ref, Duration t) : ref_(ref) {
    match = &matches;
    timeout = t;
  }
  bool await_ready() noexcept { return wait_ready(*this); }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return wait_suspend(*this, h); }
  Msg* await_resume() {
    if (exited) [[unlikely]] raise_exit();
    return found;
  }

 private:
  static bool matches(Waiter* w, Msg* m) {
    Ref ref = static_cast<CallWait*>(w)->ref_;
    return (is<CallReply<R>>(m) && value_of<CallReply<R>>(m).ref == ref) ||
           (is<Down>(m) && value_of<Down>(m).ref == ref);
  }
  Ref ref_;
};

// How a call keeps its destination: names as strings (a literal or a view
// may not outlive the awaitable), pids and Via names as they are.
template <class Dest>
using stored_dest_t =
    std::conditional_t<std::is_convertible_v<Dest, std::string_view> && !std::is_same_v<Dest, Pid>, std::string, Dest>;

// A call in flight, as an awaitable: resolving the destination, monitoring the
// server (the monitor's ref tags the call and is the alias the reply is sent
// to; the alias ends with the monitor, so a late reply is dropped), sending, and waiting for the reply,
// the Down or the timeout all happen in the caller's frame, with no coroutine
// frame of its own. A failure is thrown once, from await_resume, straight into
// the caller.
template <class R, class Dest, class M, bool Throws = true>
class [[nodiscard]] CallOp : public Waiter {
 public:
  // `function` and `what` name the call in a failure's message: GenServer.call(dest, what, timeout).
  CallOp(Dest dest, M msg, Duration t, std::string_view function, std::string_view what)
      : dest_(std::move(dest)), msg_(std::move(msg)), function_(function), what_(what) {
    match = &matches;
    timeout = t;
  }

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
      ref_ = monitor_alias(*pid);
      msg_.from = From<R>{self(), ref_};
      send(*pid, std::move(msg_));
    } catch (...) {
      failure_ = Reason::exception("the call could not be sent");
      return true;
    }
    return wait_ready(*this);
  }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return wait_suspend(*this, h); }

  auto await_resume() -> std::conditional_t<Throws, R, CallResult<R>> {
    if (exited) [[unlikely]] raise_exit();
    if (failure_) return fail(std::move(*failure_));
    if (found == nullptr) {
      demonitor(ref_, true);
      return fail(Reason::timeout());
    }
    MsgGuard guard{found};
    if (is<Down>(found)) return fail(value_of<Down>(found).reason);
    auto& reply = value_of<CallReply<R>>(found);
    if (reply.unwatched) {
      forget_monitor(ref_);
    } else {
      demonitor(ref_, true);
    }
    return std::move(reply.value);
  }

 private:
  auto fail(Reason r) -> std::conditional_t<Throws, R, CallResult<R>> {
    if constexpr (Throws) {
      call_failed(std::move(r),
                  fmt::format("{}({}, {}, {})", function_, dest_text(dest_), what_, timeout_text(timeout)));
    } else {
      return CallResult<R>(std::move(r));
    }
  }
  static bool matches(Waiter* w, Msg* m) {
    Ref ref = static_cast<CallOp*>(w)->ref_;
    return (is<CallReply<R>>(m) && value_of<CallReply<R>>(m).ref == ref) ||
           (is<Down>(m) && value_of<Down>(m).ref == ref);
  }

  Dest dest_;
  M msg_;
  std::string_view function_;
  std::string_view what_;
  Ref ref_;
  std::optional<Reason> failure_;
};

}  // namespace detail

template <class Derived, class State>
class GenServer {
 public:
  using state_type = State;

  // Starts the server linked to the calling process and waits until init has
  // returned: ok(pid), already_started(pid) when the name is taken, or error(reason)
  // when init failed (the new process then exits with that reason).
  template <class... A>
    requires(!std::is_same_v<std::remove_cvref_t<A>, Name> && ...) && (!std::is_same_v<std::remove_cvref_t<A>, Via> && ...)
  static Start start_link(A... args) {
    return start_impl(true, Name{}, std::tuple<A...>(std::move(args)...));
  }
  template <class... A>
  static Start start_link(Name name, A... args) {
    return start_impl(true, std::move(name), std::tuple<A...>(std::move(args)...));
  }
  // As start_link, without the link.
  template <class... A>
    requires(!std::is_same_v<std::remove_cvref_t<A>, Name> && ...) && (!std::is_same_v<std::remove_cvref_t<A>, Via> && ...)
  static Start start(A... args) {
    return start_impl(false, Name{}, std::tuple<A...>(std::move(args)...));
  }
  template <class... A>
  static Start start(Name name, A... args) {
    return start_impl(false, std::move(name), std::tuple<A...>(std::move(args)...));
  }

  // Sends `req` and waits for the reply. Throws ExitError ("** (exit) exited in:
  // GenServer.call(...)") when the server does not exist (noproc), exits before
  // replying (its reason), or does not reply within `timeout` (timeout).
  //
  // Returns an awaitable: `co_await Server::call(...)` inside a process, or
  // scoped.await(Server::call(...)) on a plain thread.
  template <detail::Destination Dest, class Req>
  static auto call(Dest dest, Req&& req, Duration timeout = default_call_timeout) {
    using Q = std::remove_cvref_t<Req>;
    using R = detail::reply_t<Derived, Q>;
    using D = detail::stored_dest_t<Dest>;
    return detail::CallOp<R, D, detail::CallMsg<Derived, Q>>(D(std::move(dest)),
                                                             detail::CallMsg<Derived, Q>{std::forward<Req>(req), {}},
                                                             timeout, "GenServer.call", detail::type_name_v<Q>);
  }

  // As call, but a failure is a value instead of an exception: the result holds
  // the reply or the reason (cheaper where failures are expected).
  template <detail::Destination Dest, class Req>
  static auto try_call(Dest dest, Req&& req, Duration timeout = default_call_timeout) {
    using Q = std::remove_cvref_t<Req>;
    using R = detail::reply_t<Derived, Q>;
    using D = detail::stored_dest_t<Dest>;
    return detail::CallOp<R, D, detail::CallMsg<Derived, Q>, false>(
        D(std::move(dest)), detail::CallMsg<Derived, Q>{std::forward<Req>(req), {}}, timeout, "GenServer.call",
        detail::type_name_v<Q>);
  }

  // Sends `req` to handle_cast. Never fails, even when nobody has the name.
  template <detail::Destination Dest, class Req>
  static void cast(const Dest& dest, Req&& req) {
    using Q = std::remove_cvref_t<Req>;
    static_assert(requires(Derived& d, Q&& q) { d.handle_cast(std::move(q)); },
                  "the server has no handle_cast for this request type");
    if (auto pid = detail::whereis_dest(dest)) send(*pid, detail::CastMsg<Derived, Q>{std::forward<Req>(req)});
  }

 protected:
  State& state() { return *state_; }
  const State& state() const { return *state_; }
  // Asks the server to stop with `reason` once the running callback returns.
  void stop(Reason reason = Reason::normal()) { stop_ = std::move(reason); }
  // The process that started this server (the one that spawned it: kept in the process, not here).
  const Pid& parent() const { return detail::self_parent(); }
  // The name it was started with (a local name or a via key, as the observer shows it), or empty.
  const std::string& server_name() const { return name_; }

 private:
  // What a start hands to the new process. It travels on the heap and dies once
  // init has returned, so the process's own frame, which lives as long as the
  // process, holds only a pointer to it.
  template <class... A>
  struct StartArgs {
    Pid parent;
    Ref tag;
    Name name;
    std::tuple<A...> args;
  };

  template <class... A>
  static Start start_impl(bool link, Name name, std::tuple<A...> args) {
    Pid me = self();
    Ref tag = make_ref();
    auto start = std::make_unique<StartArgs<A...>>(StartArgs<A...>{me, tag, std::move(name), std::move(args)});
    Pid child = link ? spawn_link(&server_main<A...>, std::move(start)) : spawn(&server_main<A...>, std::move(start));
    return detail::await_start(child, tag);
  }

  // The process: the start (a frame of its own, freed when init is over), then
  // the receive loop, here rather than in a coroutine of its own: this frame
  // lives as long as the process anyway, and a second one would cost its header.
  template <class... A>
  static Co<void> server_main(std::unique_ptr<StartArgs<A...>> start) {
    Derived d;
    GenServer& base = d;
    if (!co_await base.begin(d, std::move(start))) co_return;
    for (;;) {
      detail::Msg* m = co_await detail::ReceiveRaw{};
      base.last_ = m->type;
      try {
        Co<void> wait;
        if (base.dispatch(d, m, wait)) co_await std::move(wait);
      } catch (const ExitError& e) {
        base.stop_ = e.reason;  // caught by type: classifying by a rethrow would cost another throw
      } catch (const std::exception& e) {
        base.stop_ = Reason::exception(e.what());
      } catch (...) {
        base.stop_ = Reason::exception("unknown exception");
      }
      if (base.stop_) {
        co_await base.finish(d);
        co_return;
      }
    }
  }

  // Claims the name, runs init and acknowledges the start; false when the process is to end.
  template <class... A>
  Co<bool> begin(Derived& d, std::unique_ptr<StartArgs<A...>> start) {
    name_ = start->name.to_string();
    detail::set_describer(&describer, &d);
    if (!start->name.empty()) {
      std::optional<Pid> holder = co_await detail::claim_name(start->name);
      if (holder) {
        send(start->parent, detail::StartAck{start->tag, StartResult::already_started(*holder)});
        co_return false;
      }
    }
    std::optional<Reason> failed;
    try {
      co_await run_init(d, start->args);
    } catch (const ExitError& e) {
      failed = e.reason;
    } catch (const std::exception& e) {
      failed = Reason::exception(e.what());
    } catch (...) {
      failed = Reason::exception("unknown exception");
    }
    if (failed) {
      send(start->parent, detail::StartAck{start->tag, StartResult::error(*failed)});
      if (!failed->is_orderly()) report_crash(*failed, "(init)");
      detail::set_exit_reason(std::move(*failed));
      co_return false;
    }
    send(start->parent, detail::StartAck{start->tag, StartResult::ok(self())});
    co_return true;
  }

  template <class... A>
  Co<void> run_init(Derived& d, std::tuple<A...>& args) {
    if constexpr (requires(Derived& dd, A&... a) { dd.init(a...); }) {
      auto init = [&] { return std::apply([&](A&... a) { return d.init(a...); }, args); };
      if constexpr (detail::unwrap_co<decltype(init())>::is_co) {
        state_.emplace(co_await init());
      } else {
        state_.emplace(init());
      }
    } else {
      static_assert(sizeof...(A) == 0 && std::is_default_constructible_v<State>,
                    "the server has no init taking these arguments");
      state_.emplace();
    }
  }

  // Handles one message; true with `wait` set when the handler must be awaited.
  bool dispatch(Derived& d, detail::Msg* m, Co<void>& wait) {
    using detail::GenProtocol;
    if (auto* proto = static_cast<const GenProtocol*>(m->type->protocol)) {
      if (proto->kind == GenProtocol::Kind::stop) {
        stop_ = detail::value_of<detail::StopMsg>(m).reason;
        detail::free_msg(m);
        return false;
      }
      if (proto->server != &detail::server_tag<Derived>) {
        std::string what = fmt::format("{{bad_{}, {}}}", proto->kind == GenProtocol::Kind::call ? "call" : "cast",
                                       m->type->name);
        detail::free_msg(m);
        otp::exit(Reason::other(std::move(what)));
      }
      return proto->handle(&d, m, wait);
    }
    if (detail::is<Exit>(m) && (detail::value_of<Exit>(m).from == detail::self_parent() || !detail::value_of<Exit>(m).from)) {
      // The parent's (or the runtime's shutdown) exit signal, trapped: stop the way it asked.
      stop_ = detail::value_of<Exit>(m).reason;
      detail::free_msg(m);
      return false;
    }
    return dispatch_info(d, m, wait, static_cast<typename info_of<Derived>::type*>(nullptr));
  }

  template <class T>
  static constexpr bool takes_info = requires(Derived& d, T&& t) { d.handle_info(std::move(t)); };

  template <class T>
  static bool info_as(Derived& d, detail::Msg* m, Co<void>& wait, bool& done) {
    if (done || !detail::is<T>(m)) return false;
    done = true;
    detail::MsgGuard guard{m};
    T& v = detail::value_of<T>(m);
    if constexpr (detail::unwrap_co<decltype(d.handle_info(std::move(v)))>::is_co) {
      wait = [](Derived& d, T v) -> Co<void> { co_await d.handle_info(std::move(v)); }(d, std::move(v));
      return true;
    } else {
      d.handle_info(std::move(v));
      return false;
    }
  }

  template <class L>
  struct info_of {
    using type = Messages<>;
  };
  template <class L>
    requires requires { typename L::Info; }
  struct info_of<L> {
    using type = typename L::Info;
  };

  template <class... T>
  bool dispatch_info(Derived& d, detail::Msg* m, Co<void>& wait, Messages<T...>*) {
    bool done = false;
    bool waits = (info_as<T>(d, m, wait, done) || ...);
    if constexpr ((!std::is_same_v<T, Exit> && ...) && takes_info<Exit>) waits = waits || info_as<Exit>(d, m, wait, done);
    if constexpr ((!std::is_same_v<T, Down> && ...) && takes_info<Down>) waits = waits || info_as<Down>(d, m, wait, done);
    if (!done) {
      log::warning("GenServer {} received an unexpected message: {}", self(), m->type->name);
      detail::free_msg(m);
    }
    return waits;
  }

  // A crash, stop(reason), otp::stop or the parent's exit: terminate, report, exit. A
  // coroutine of its own, so that the process's frame holds no reason of its own.
  Co<void> finish(Derived& d) {
    Reason reason = std::move(*stop_);
    co_await run_terminate(d, reason);
    if (!reason.is_orderly()) report_crash(reason, last_->name);
    detail::set_exit_reason(std::move(reason));
  }

  Co<void> run_terminate(Derived& d, const Reason& reason) {
    if constexpr (requires { d.terminate(reason); }) {
      try {
        if constexpr (detail::unwrap_co<decltype(d.terminate(reason))>::is_co) {
          co_await d.terminate(reason);
        } else {
          d.terminate(reason);
        }
      } catch (const std::exception& e) {
        log::error("GenServer {}: terminate failed: {}", self(), e.what());
      }
    }
    co_return;
  }

  void report_crash(const Reason& reason, std::string_view last) {
    if (!log::enabled(Level::error)) return;
    std::string name = name_.empty() ? registered_name() : name_;
    std::string module = describe_module(static_cast<Derived*>(this));
    report(CrashReport{name.empty() ? self().to_string() : fmt::format("{} {}", self(), name),
                       module.empty() ? describe_behaviour(static_cast<Derived*>(this)) : module, reason,
                       std::string(last), state_ ? describe_state() : std::string("(none)")});
  }

  std::string describe_state() {
    Derived& d = static_cast<Derived&>(*this);
    if constexpr (requires { d.format_state(); }) {
      return d.format_state();
    } else {
      return detail::describe(*state_);
    }
  }

  // How the observer sees this server (otp/observer.hpp). A derived class may
  // override the behaviour's and the module's names with observer_behaviour()
  // and observer_module() members.
  static std::string describe_behaviour(const void* self) {
    const auto& d = *static_cast<const Derived*>(self);
    if constexpr (requires { d.observer_behaviour(); }) {
      return d.observer_behaviour();
    } else {
      return "GenServer";
    }
  }
  static std::string describe_module(const void* self) {
    const auto& d = *static_cast<const Derived*>(self);
    if constexpr (requires { d.observer_module(); }) {
      return d.observer_module();
    } else {
      (void)d;
      return std::string(detail::type_name_v<Derived>);
    }
  }
  static std::string describe_name(const void* self) {
    return static_cast<const GenServer&>(*static_cast<const Derived*>(self)).name_;
  }
  static std::string describe_state_of(const void* self) {
    auto& base = static_cast<GenServer&>(*const_cast<Derived*>(static_cast<const Derived*>(self)));
    return base.state_ ? base.describe_state() : std::string("(starting)");
  }
  static constexpr detail::Describer describer{&describe_behaviour, &describe_module, &describe_name,
                                               &describe_state_of};

  std::optional<State> state_;
  std::optional<Reason> stop_;
  std::string name_;
  const detail::MsgType* last_ = nullptr;
};

// Stops a server (GenServer.stop): it runs terminate(reason) and exits with
// `reason`; returns once it is gone. Throws ExitError (noproc) when there is no
// such server, and the server's reason when it ended with another.
template <detail::Destination Dest>
Co<void> stop(Dest dest, Reason reason = Reason::normal(), Duration timeout = infinity) {
  auto text = [&] { return fmt::format("GenServer.stop({}, {}, {})", detail::dest_text(dest), reason, detail::timeout_text(timeout)); };
  std::optional<Pid> pid = detail::whereis_dest(dest);
  if (!pid) detail::call_failed(Reason::noproc(), text());
  Ref ref = monitor(*pid);
  send(*pid, detail::StopMsg{reason});
  auto down = co_await receive<Down>([ref](const Down& d) { return d.ref == ref; }, timeout);
  if (!down) {
    demonitor(ref, true);
    detail::call_failed(Reason::timeout(), text());
  }
  if (!(down->reason == reason)) detail::call_failed(down->reason, text());
}

}  // namespace otp

template <>
struct fmt::formatter<otp::StartResult> : fmt::formatter<std::string_view> {
  auto format(const otp::StartResult& r, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(r.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<otp::Ok> : fmt::formatter<std::string_view> {
  auto format(otp::Ok, fmt::format_context& ctx) const { return fmt::formatter<std::string_view>::format(":ok", ctx); }
};
