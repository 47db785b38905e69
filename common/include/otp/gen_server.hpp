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
//   void handle_continue(T)              for each T given to continue_with (below)
// Any callback may instead return otp::Co<...> and co_await inside (calls to
// other servers, receives): waiting never holds an OS thread.
//
// Calls are typed: Stash::call(dest, Get{}) knows from Stash::handle_call(Get)
// that it returns a User. The request carries a handler for Stash, so a server of
// another type that receives it crashes with {bad_call, ...}, as a GenServer
// without a matching clause would.
//
// A callback (init included) asks for more work with continue_with(arg): once it returns,
// handle_continue(arg) runs before any other message (Elixir's {:continue, arg}). init
// declines to start with ignore(): the start returns ignore and the process ends normally.
// send_request splits a call in two (otp/request_id.hpp); get_state and replace_state read
// and swap a running server's state between two messages (sys's, for debugging and tests).
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
#include "otp/detail/behaviour.hpp"   // the skeleton it shares with StateMachine
#include "otp/detail/gen_server.hpp"  // the call protocol and its messages
#include "otp/detail/msg.hpp"
#include "otp/detail/type_name.hpp"
#include "otp/logger.hpp"
#include "otp/names.hpp"
#include "otp/observer.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"
#include "otp/reply.hpp"       // From, Reply, noreply, reply, Ok, CallResult
#include "otp/request_id.hpp"  // RequestId, RequestIds, receive_response, check_response
#include "otp/server_ref.hpp"  // StartResult, Start, ServerRef, default_call_timeout

namespace otp {

// A list of message types a GenServer takes in handle_info.
template <class... T>
struct Messages {};

template <class Derived, class State>
class GenServer : public detail::Behaviour<Derived, GenServer<Derived, State>> {
 public:
  using state_type = State;

  // start_link(args...), start_link(name, args...), start(...): from Behaviour. Each
  // starts the server and waits until init has returned: ok(pid), already_started(pid) when
  // the name is taken, or error(reason) when init failed (the process then exits with it).

  // Sends `req` and waits for the reply. Throws ExitError ("** (exit) exited in:
  // GenServer.call(...)") when the server does not exist (noproc), is the caller
  // itself (calling_self, at once), exits before replying (its reason), or does not
  // reply within `timeout` (timeout).
  //
  // Returns an awaitable: `co_await Server::call(...)` inside a process, or
  // scoped.await(Server::call(...)) on a plain thread.
  template <Destination Dest, class Req>
  static auto call(Dest dest, Req&& req, Duration timeout = default_call_timeout) {
    using Q = std::remove_cvref_t<Req>;
    using R = detail::reply_t<Derived, Q>;
    using D = detail::stored_dest_t<Dest>;
    return detail::CallOp<R, D, detail::CallMsg<Derived, Q>>(
        D(std::move(dest)), detail::CallMsg<Derived, Q>{std::forward<Req>(req), {}}, timeout,
        "GenServer.call", detail::type_name_v<Q>);
  }

  // As call, but a failure is a value instead of an exception: the result holds
  // the reply or the reason (cheaper where failures are expected).
  template <Destination Dest, class Req>
  static auto try_call(Dest dest, Req&& req, Duration timeout = default_call_timeout) {
    using Q = std::remove_cvref_t<Req>;
    using R = detail::reply_t<Derived, Q>;
    using D = detail::stored_dest_t<Dest>;
    return detail::CallOp<R, D, detail::CallMsg<Derived, Q>, false>(
        D(std::move(dest)), detail::CallMsg<Derived, Q>{std::forward<Req>(req), {}}, timeout,
        "GenServer.call", detail::type_name_v<Q>);
  }

  // As try_call, for a server that its supervisor restarts: a call that fails (no server under
  // the name yet, or it exited before replying) while `restarting()` says a restart is coming is
  // tried again, first after a few turns of the scheduler, then every millisecond, up to about
  // 100 ms in all. A crash of the server is then a short wait for its caller, not an answer as if
  // it did not exist. The request is built here, Req{args...}: a caller writes no braced
  // temporary inside co_await (GCC 12 destroys those twice; docs/reference.md).
  //
  //   auto count = co_await Server::call_through_restart<Server::Validate>(
  //       via(login, "server"), [login] { return via(login, "sup").whereis().has_value(); },
  //       std::move(token));
  template <class Req, Destination Dest, class Restarting, class... Args>
  static Co<CallResult<detail::reply_t<Derived, Req>>> call_through_restart(Dest dest,
                                                                            Restarting restarting,
                                                                            Args... args) {
    for (int attempt = 0;; ++attempt) {
      Req request{args...};
      auto reply = co_await try_call(dest, std::move(request));
      if (reply.ok() || attempt == 100 || !restarting()) co_return reply;
      if (attempt < 10) {
        co_await otp::yield();
      } else {
        co_await otp::sleep(std::chrono::milliseconds(1));
      }
    }
  }

  // Sends `req` as call does and returns at once with its id; the answer is taken later with
  // otp::receive_response, wait_response or check_response (otp/request_id.hpp). When no
  // server has the name, the answer is noproc (a Down in the caller's mailbox, as a monitor of
  // a missing name gives in Erlang).
  template <Destination Dest, class Req>
  static RequestId<detail::reply_t<Derived, std::remove_cvref_t<Req>>> send_request(
      const Dest& dest, Req&& req) {
    using Q = std::remove_cvref_t<Req>;
    using R = detail::reply_t<Derived, Q>;
    std::optional<Pid> pid = detail::whereis_dest(dest);
    if (!pid) {
      Ref ref = make_ref();
      send(self(), Down{ref, Pid{}, Reason::noproc()});
      return RequestId<R>(ref);
    }
    Ref ref = detail::monitor_alias(*pid);
    send(*pid, detail::CallMsg<Derived, Q>{std::forward<Req>(req), From<R>{self(), ref}});
    return RequestId<R>(ref);
  }
  // The same, adding the request to `ids` under `label` (send_request/4).
  template <Destination Dest, class Req, class L>
  static void send_request(const Dest& dest, Req&& req, L label,
                           RequestIds<detail::reply_t<Derived, std::remove_cvref_t<Req>>, L>& ids) {
    ids.add(send_request(dest, std::forward<Req>(req)), std::move(label));
  }

  // A copy of the server's state, taken between two messages (sys:get_state). Fails as call does.
  template <Destination Dest>
  static auto get_state(Dest dest, Duration timeout = default_call_timeout) {
    static_assert(std::is_copy_constructible_v<State>, "get_state copies the state");
    using D = detail::stored_dest_t<Dest>;
    using M = SysCall<State, CopyState>;
    return detail::CallOp<State, D, M>(D(std::move(dest)), M{}, timeout, ":sys.get_state", "");
  }

  // Replaces the server's state with fn(state), between two messages, and returns the new state
  // (sys:replace_state). `fn` runs in the server. When it throws, the state stays as it was, the
  // server runs on, and the caller gets ExitError {callback_failed, {exception, what}}.
  template <Destination Dest, class F>
  static Co<State> replace_state(Dest dest, F fn, Duration timeout = default_call_timeout) {
    static_assert(std::is_copy_constructible_v<State>, "replace_state returns a copy of the state");
    using D = detail::stored_dest_t<Dest>;
    using M = SysCall<Result<State>, ReplaceState<F>>;
    D stored(std::move(dest));
    M msg{ReplaceState<F>{std::move(fn)}, {}};
    detail::CallOp<Result<State>, D, M> op(stored, std::move(msg), timeout, ":sys.replace_state",
                                           "");
    Result<State> r = co_await op;
    if (!r.ok()) {
      detail::call_failed(r.reason(),
                          fmt::format(":sys.replace_state({}, fun)", detail::dest_text(stored)));
    }
    co_return std::move(r).value();
  }

  // Sends `req` to handle_cast. Never fails, even when nobody has the name.
  template <Destination Dest, class Req>
  static void cast(const Dest& dest, Req&& req) {
    using Q = std::remove_cvref_t<Req>;
    static_assert(
        requires(Derived & d, Q && q) { d.handle_cast(std::move(q)); },
        "the server has no handle_cast for this request type");
    if (auto pid = detail::whereis_dest(dest))
      send(*pid, detail::CastMsg<Derived, Q>{std::forward<Req>(req)});
  }

 protected:
  State& state() { return *state_; }
  const State& state() const { return *state_; }
  // Once the running callback (init included) returns, handle_continue(arg) runs before any
  // other message: Elixir's {:continue, arg}. A second continue_with in the same callback
  // replaces the first; a stop asked for in the same callback drops it.
  template <class T>
  void continue_with(T&& arg) {
    using U = std::remove_cvref_t<T>;
    static_assert(
        requires(Derived & d, U && u) { d.handle_continue(std::move(u)); },
        "the server has no handle_continue for this type");
    detail::Msg* m = detail::make_msg<U>(std::forward<T>(arg));
    if (continue_ != nullptr) detail::free_msg(continue_);
    continue_ = m;
    run_continue_ = &run_continue<U>;
  }
  // stop(reason), ignore(), parent() and server_name(): from Behaviour.

  GenServer() = default;
  GenServer(const GenServer&) = delete;
  GenServer& operator=(const GenServer&) = delete;
  ~GenServer() {
    if (continue_ != nullptr) detail::free_msg(continue_);
  }

 private:
  friend class detail::Behaviour<Derived, GenServer>;
  static constexpr std::string_view behaviour_name = "GenServer";

  template <class... A>
  Co<void> run_init(Derived& d, std::tuple<A...>& args) {
    if constexpr (requires(Derived & dd, A & ... a) { dd.init(a...); }) {
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
  std::optional<State>& held() { return state_; }
  // A continue asked for comes first; every other message comes from the mailbox.
  bool next(Derived& d, Co<void>& step) {
    if (continue_ == nullptr) [[likely]]
      return false;
    detail::Msg* m = std::exchange(continue_, nullptr);
    this->last_ = m->type;
    run_continue_(d, m, step);
    return true;
  }

  template <class T>
  static void run_continue(Derived& d, detail::Msg* m, Co<void>& step) {
    run_handler<T>(d, m, step, [](Derived& dd, T&& v) { return dd.handle_continue(std::move(v)); });
  }

  // Runs call(d, v) for the T in m, which it frees: at once, or in `step` when it waits.
  template <class T, class Call>
  static void run_handler(Derived& d, detail::Msg* m, Co<void>& step, Call call) {
    detail::MsgGuard guard{m};
    T& v = detail::value_of<T>(m);
    if constexpr (detail::unwrap_co<decltype(call(d, std::move(v)))>::is_co) {
      step = [](Derived& dd, T vv, Call c) -> Co<void> { co_await c(dd, std::move(vv)); }(
                                               d, std::move(v), call);
    } else {
      call(d, std::move(v));
    }
  }

  // sys requests: calls that every GenServer of this type answers, whatever its handle_call.
  template <class R, class F>
  struct SysCall {
    F fn;
    From<R> from;
    static void handle(void* self, detail::Msg* m, Co<void>&) {
      GenServer& g = *static_cast<Derived*>(self);
      detail::MsgGuard guard{m};
      auto& msg = detail::value_of<SysCall>(m);
      detail::send_reply(msg.from, R(msg.fn(*g.state_)));
    }
    static constexpr detail::GenProtocol protocol{detail::GenProtocol::Kind::call,
                                                  &detail::server_tag<Derived>, &handle};
  };
  struct CopyState {
    State operator()(const State& s) const { return s; }
  };
  template <class F>
  struct ReplaceState {
    F fn;
    Result<State> operator()(State& s) {
      try {
        State next = fn(std::as_const(s));
        s = std::move(next);
        return s;
      } catch (const std::exception& e) {
        return Reason::other(fmt::format("{{callback_failed, {}}}", Reason::exception(e.what())));
      } catch (...) {
        return Reason::other("{callback_failed, unknown exception}");
      }
    }
  };

  // A message past the triage: a call or cast through its protocol, else handle_info.
  void handle(Derived& d, detail::Msg* m, Co<void>& step) {
    if (auto* proto = static_cast<const detail::GenProtocol*>(m->type->protocol)) {
      proto->handle(&d, m, step);
    } else {
      dispatch_info(d, m, step, static_cast<typename info_of<Derived>::type*>(nullptr));
    }
  }

  template <class T>
  static constexpr bool takes_info = requires(Derived& d, T&& t) {
    d.handle_info(std::move(t));
  };

  template <class T>
  static bool info_as(Derived& d, detail::Msg* m, Co<void>& step) {
    if (!detail::is<T>(m)) return false;
    run_handler<T>(d, m, step, [](Derived& dd, T&& v) { return dd.handle_info(std::move(v)); });
    return true;
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
  void dispatch_info(Derived& d, detail::Msg* m, Co<void>& step, Messages<T...>*) {
    bool done = (info_as<T>(d, m, step) || ...);
    if constexpr ((!std::is_same_v<T, Exit> && ...) && takes_info<Exit>)
      done = done || info_as<Exit>(d, m, step);
    if constexpr ((!std::is_same_v<T, Down> && ...) && takes_info<Down>)
      done = done || info_as<Down>(d, m, step);
    if (!done) {
      log::warning("GenServer {} received an unexpected message: {}", self(), m->type->name);
      detail::free_msg(m);
    }
  }

  std::optional<State> state_;
  detail::Msg* continue_ = nullptr;  // the continue asked for, until it runs
  void (*run_continue_)(Derived&, detail::Msg*, Co<void>&) = nullptr;
};

// Stops a server (GenServer.stop): it runs terminate(reason) and exits with
// `reason`; returns once it is gone. Throws ExitError (noproc) when there is no
// such server, calling_self when the server is the caller, and the server's reason
// when it ended with another.
template <Destination Dest>
Co<void> stop(Dest dest, Reason reason = Reason::normal(), Duration timeout = infinity) {
  auto text = [&] {
    return fmt::format("GenServer.stop({}, {}, {})", detail::dest_text(dest), reason,
                       detail::timeout_text(timeout));
  };
  std::optional<Pid> pid = detail::whereis_dest(dest);
  if (!pid) detail::call_failed(Reason::noproc(), text());
  // It would wait for its own exit, which its wait holds back: gen's calling_self.
  if (*pid == self()) detail::call_failed(Reason::other("calling_self"), text());
  Ref ref = monitor(*pid);
  send(*pid, detail::StopMsg{reason});
  detail::CallWait<Ok> down(ref, timeout);  // no reply comes: the Down or the timeout
  detail::Msg* m = co_await down;
  if (m == nullptr) {
    demonitor(ref, true);
    detail::call_failed(Reason::timeout(), text());
  }
  detail::MsgGuard guard{m};
  const Reason& ended = detail::value_of<Down>(m).reason;
  if (!(ended == reason)) detail::call_failed(ended, text());
}

}  // namespace otp
