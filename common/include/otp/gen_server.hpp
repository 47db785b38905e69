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
#include "otp/server_ref.hpp"  // StartResult, Start, ServerRef, default_call_timeout

namespace otp {

// A list of message types a GenServer takes in handle_info.
template <class... T>
struct Messages {};

template <class Derived, class State>
class GenServer {
 public:
  using state_type = State;

  // Starts the server linked to the calling process and waits until init has
  // returned: ok(pid), already_started(pid) when the name is taken, or error(reason)
  // when init failed (the new process then exits with that reason).
  template <class... A>
  requires(!std::is_same_v<std::remove_cvref_t<A>, Name> && ...) &&
      (!std::is_same_v<std::remove_cvref_t<A>, Via> && ...) static Start start_link(A... args) {
    return start_impl(true, Name{}, std::tuple<A...>(std::move(args)...));
  }
  template <class... A>
  static Start start_link(Name name, A... args) {
    return start_impl(true, std::move(name), std::tuple<A...>(std::move(args)...));
  }
  // As start_link, without the link.
  template <class... A>
  requires(!std::is_same_v<std::remove_cvref_t<A>, Name> && ...) &&
      (!std::is_same_v<std::remove_cvref_t<A>, Via> && ...) static Start start(A... args) {
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
  // Asks the server to stop with `reason` once the running callback returns.
  void stop(Reason reason = Reason::normal()) { stop_with(std::move(reason)); }
  // The process that started this server (the one that spawned it: kept in the process, not here).
  const Pid& parent() const { return detail::self_parent(); }
  // Its name (a local name or the key of the Via name it was started with, as the observer shows
  // it), or empty. From the server's own process.
  std::string server_name() const { return detail::name_of_self(via_); }

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
    auto start = std::make_unique<StartArgs<A...>>(
        StartArgs<A...>{me, tag, std::move(name), std::move(args)});
    Pid child = link ? spawn_link(&server_main<A...>, std::move(start))
                     : spawn(&server_main<A...>, std::move(start));
    return detail::await_start(child, tag);
  }

  // The process: the start (a frame of its own, freed when init is over), then
  // the receive loop, here rather than in a coroutine of its own: this frame
  // lives as long as the process anyway, and a second one would cost its header.
  // Every step that may suspend (the start, a handler, the end) is awaited at one
  // place, `step`: GCC gives each co_await its own room in the frame.
  template <class... A>
  static Co<void> server_main(std::unique_ptr<StartArgs<A...>> start) {
    Derived d;
    GenServer& base = d;
    Co<void> step = base.begin(d, std::move(start));
    for (;;) {
      try {
        if (step) co_await std::move(step);
        step = Co<void>();  // its frame goes now, not with the next step
        if (base.ended_) co_return;
        if (!base.stopping_) {
          detail::Msg* m = co_await detail::ReceiveRaw{};
          base.last_ = m->type;
          base.dispatch(d, m, step);
          continue;
        }
      } catch (const ExitError& e) {
        base.stop_with(e.reason);  // caught by type: classifying by a rethrow costs another throw
      } catch (const std::exception& e) {
        base.stop_with(Reason::exception(e.what()));
      } catch (...) {
        base.stop_with(Reason::exception("unknown exception"));
      }
      // A start that threw (a Via name in a registry that refuses it) has no state to
      // terminate: the process ends with the reason.
      if (base.ended_ || !base.state_) co_return;
      base.ended_ = true;  // stopping: terminate, report, then end
      step = base.finish(d);
    }
  }

  // Claims the name, runs init and acknowledges the start; sets ended_ when the process is to
  // end.
  template <class... A>
  Co<void> begin(Derived& d, std::unique_ptr<StartArgs<A...>> start) {
    via_ = start->name.via().registry;
    detail::set_describer(&describer, &d);
    if (!start->name.empty()) {
      std::optional<Pid> holder = co_await detail::claim_name(start->name);
      if (holder) {
        send(start->parent, detail::StartAck{start->tag, StartResult::already_started(*holder)});
        ended_ = true;
        co_return;
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
      ended_ = true;
      co_return;
    }
    send(start->parent, detail::StartAck{start->tag, StartResult::ok(self())});
  }

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

  // Handles one message; true with `wait` set when the handler must be awaited.
  bool dispatch(Derived& d, detail::Msg* m, Co<void>& wait) {
    using detail::GenProtocol;
    if (auto* proto = static_cast<const GenProtocol*>(m->type->protocol)) {
      if (proto->kind == GenProtocol::Kind::stop) {
        stop_with(detail::value_of<detail::StopMsg>(m).reason);
        detail::free_msg(m);
        return false;
      }
      if (proto->server != &detail::server_tag<Derived>) {
        std::string what =
            fmt::format("{{bad_{}, {}}}", proto->kind == GenProtocol::Kind::call ? "call" : "cast",
                        m->type->name);
        detail::free_msg(m);
        otp::exit(Reason::other(std::move(what)));
      }
      return proto->handle(&d, m, wait);
    }
    if (detail::is<Exit>(m) && (detail::value_of<Exit>(m).from == detail::self_parent() ||
                                !detail::value_of<Exit>(m).from)) {
      // The parent's (or the runtime's shutdown) exit signal, trapped: stop the way it asked.
      stop_with(detail::value_of<Exit>(m).reason);
      detail::free_msg(m);
      return false;
    }
    return dispatch_info(d, m, wait, static_cast<typename info_of<Derived>::type*>(nullptr));
  }

  template <class T>
  static constexpr bool takes_info = requires(Derived& d, T&& t) {
    d.handle_info(std::move(t));
  };

  template <class T>
  static bool info_as(Derived& d, detail::Msg* m, Co<void>& wait, bool& done) {
    if (done || !detail::is<T>(m)) return false;
    done = true;
    detail::MsgGuard guard{m};
    T& v = detail::value_of<T>(m);
    if constexpr (detail::unwrap_co<decltype(d.handle_info(std::move(v)))>::is_co) {
      wait = [](Derived& d, T v) -> Co<void> { co_await d.handle_info(std::move(v)); }(
                                     d, std::move(v));
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
    if constexpr ((!std::is_same_v<T, Exit> && ...) && takes_info<Exit>)
      waits = waits || info_as<Exit>(d, m, wait, done);
    if constexpr ((!std::is_same_v<T, Down> && ...) && takes_info<Down>)
      waits = waits || info_as<Down>(d, m, wait, done);
    if (!done) {
      log::warning("GenServer {} received an unexpected message: {}", self(), m->type->name);
      detail::free_msg(m);
    }
    return waits;
  }

  // The server is to stop with `reason` once the running callback returns. The reason waits
  // in the process's own exit reason, where it ends up anyway, so the frame keeps only a flag.
  void stop_with(Reason reason) {
    detail::set_exit_reason(std::move(reason));
    stopping_ = true;
  }

  // A crash, stop(reason), otp::stop or the parent's exit: terminate, report, exit. A
  // coroutine of its own, so that the process's frame holds no reason of its own.
  Co<void> finish(Derived& d) {
    Reason reason = detail::exit_reason();
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
    std::string name = server_name();
    std::string module = describe_module(static_cast<Derived*>(this));
    report(CrashReport{name.empty() ? self().to_string() : fmt::format("{} {}", self(), name),
                       module.empty() ? describe_behaviour(static_cast<Derived*>(this)) : module,
                       reason, std::string(last),
                       state_ ? describe_state() : std::string("(none)")});
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
  static std::string describe_name(const void* self, const Pid& pid) {
    const NameRegistry* via =
        static_cast<const GenServer&>(*static_cast<const Derived*>(self)).via_;
    return via != nullptr ? via->name_of(pid) : std::string();
  }
  static std::string describe_state_of(const void* self) {
    auto& base = static_cast<GenServer&>(*const_cast<Derived*>(static_cast<const Derived*>(self)));
    return base.state_ ? base.describe_state() : std::string("(starting)");
  }
  static constexpr detail::Describer describer{&describe_behaviour, &describe_module,
                                               &describe_name, &describe_state_of};

  std::optional<State> state_;
  bool stopping_ = false;              // its reason waits in the process's exit reason (stop_with)
  bool ended_ = false;                 // the process is to end once `step` is done (server_main)
  const NameRegistry* via_ = nullptr;  // the registry of its Via name: it keeps no copy of the key
  const detail::MsgType* last_ = nullptr;
};

// Stops a server (GenServer.stop): it runs terminate(reason) and exits with
// `reason`; returns once it is gone. Throws ExitError (noproc) when there is no
// such server, and the server's reason when it ended with another.
template <Destination Dest>
Co<void> stop(Dest dest, Reason reason = Reason::normal(), Duration timeout = infinity) {
  auto text = [&] {
    return fmt::format("GenServer.stop({}, {}, {})", detail::dest_text(dest), reason,
                       detail::timeout_text(timeout));
  };
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
