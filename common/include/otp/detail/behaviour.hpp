// otp::detail::Behaviour, the skeleton GenServer and StateMachine share as their base class: the
// start, the process's life, the triage of protocol messages, terminate, the crash report and
// the one way out.
//
// Why detail: nobody writes a Behaviour. Users derive from GenServer or StateMachine, and what
// Behaviour gives them (start_link, start, stop, parent, server_name) they reach as members of
// those classes, whose headers document them; the class itself and the contract below are the
// runtime's, and may change with the next behaviour. A new behaviour lives in common/, next to
// these two.
//
// A behaviour's process goes through four steps, whatever the behaviour:
//   start   the starter spawns the process, linked or not, with the arguments in a heap block
//           that dies once init has returned (the process's frame, which lives as long as the
//           process, holds only a pointer to it), and waits for the StartAck or the Down
//           (await_start).
//   begin   the process sets its describer (how the observer sees it), claims its name
//           (already_started when another live process holds it), runs init and acknowledges:
//           ok; ignore (init called ignore()), and then it ends normally; error(reason) from
//           fail_start(reason), and then it ends normally with no report; or error(reason) from
//           a throw or an exit, and then it ends with that reason, with a crash report unless
//           the reason is orderly.
//           Either way its name goes before the acknowledgement.
//   serve   one message at a time. The triage comes first and is the same for every behaviour:
//           a stop; a call or cast meant for another behaviour type, which ends the process with
//           {bad_call, ...} / {bad_cast, ...}; the parent's exit signal (seen only when trapping
//           exits), which stops the process with its reason. The rest is the behaviour's own.
//   finish  after a stop, a crash in a callback or the parent's exit signal: terminate(reason),
//           a crash report unless the reason is orderly, and the process ends with the reason.
// The one way out: from the moment a stop is decided (stop_with) its reason waits in the
// process's own exit reason, and the process's coroutine returns; nothing is rethrown. Every
// step that may suspend is awaited at one place in process_main (`step`): GCC gives each
// co_await its own room in the coroutine frame, and this frame lives as long as the process.
//
// What a behaviour (Kind, deriving from Behaviour<Derived, Kind>) provides, to Behaviour as a
// friend:
//   static constexpr std::string_view behaviour_name   "GenServer", "StateMachine"
//   Co<void> run_init(Derived&, std::tuple<A...>&)     runs init and keeps its result in held()
//   held()                                             that result, a std::optional
//   bool next(Derived&, Co<void>& step)                handles work that needs no message (the
//                                                      StateMachine's queued events); true when
//                                                      it did
//   void handle(Derived&, Msg*, Co<void>& step)        a message past the triage
// A handler that must wait leaves its coroutine in `step`.
#pragma once

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
#include "otp/detail/gen_server.hpp"
#include "otp/detail/msg.hpp"
#include "otp/detail/type_name.hpp"
#include "otp/logger.hpp"
#include "otp/names.hpp"
#include "otp/observer.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"
#include "otp/server_ref.hpp"

namespace otp::detail {

// An argument for init, not a name: start(name, args...) is the other overload.
template <class A>
concept InitArg =
    !std::is_same_v<std::remove_cvref_t<A>, Name> && !std::is_same_v<std::remove_cvref_t<A>, Via>;

// What ignore() throws, caught where init runs. Thrown anywhere else it is a crash.
struct IgnoreStart : std::exception {
  const char* what() const noexcept override { return "ignore() called outside init"; }
};
// What fail_start() throws, caught where init runs. Thrown anywhere else it is a crash.
struct FailStart : std::exception {
  explicit FailStart(Reason r) : reason(std::move(r)) {}
  const char* what() const noexcept override { return "fail_start() called outside init"; }
  Reason reason;
};

template <class Derived, class Kind>
class Behaviour {
 public:
  // Starts the process linked to the calling process and waits until init has returned:
  // ok(pid), already_started(pid) when the name is taken, or error(reason) when init failed
  // (the new process then exits with that reason).
  template <detail::InitArg... A>
  static Start start_link(A... args) {
    return start_impl(true, Name{}, std::tuple<A...>(std::move(args)...));
  }
  template <class... A>
  static Start start_link(Name name, A... args) {
    return start_impl(true, std::move(name), std::tuple<A...>(std::move(args)...));
  }
  // As start_link, without the link.
  template <detail::InitArg... A>
  static Start start(A... args) {
    return start_impl(false, Name{}, std::tuple<A...>(std::move(args)...));
  }
  template <class... A>
  static Start start(Name name, A... args) {
    return start_impl(false, std::move(name), std::tuple<A...>(std::move(args)...));
  }

 protected:
  // Asks the process to stop with `reason` once the running callback returns.
  void stop(Reason reason = Reason::normal()) { stop_with(std::move(reason)); }
  // From init: decline to start. The start returns ignore (no error, no crash report), the
  // name is released and the process ends with reason normal (Elixir's init returning :ignore).
  [[noreturn]] static void ignore() { throw IgnoreStart{}; }
  // From init: the start fails with `reason` (it returns error(reason)), the name is released
  // and the process ends with reason normal, with no crash report: OTP 26's init returning
  // {error, Reason}, for a failure its caller reports (a port in use, say).
  [[noreturn]] static void fail_start(Reason reason) { throw FailStart(std::move(reason)); }
  // The process that started this one (kept in the process, not here).
  const Pid& parent() const { return detail::self_parent(); }
  // Its name (a local name or the key of the Via name it was started with, as the observer shows
  // it), or empty. From the process itself.
  std::string server_name() const { return detail::name_of_self(via_); }

 private:
  friend Kind;

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
    Pid child = link ? spawn_link(&process_main<A...>, std::move(start))
                     : spawn(&process_main<A...>, std::move(start));
    return detail::await_start(child, tag);
  }

  template <class... A>
  static Co<void> process_main(std::unique_ptr<StartArgs<A...>> start) {
    // This frame lasts as long as the process and GCC keeps every local of a coroutine in it:
    // the server, the step, one other name for the server (base), the message.
    Derived d;
    Behaviour& base = d;
    Co<void> step = base.begin(d, std::move(start));
    for (;;) {
      try {
        if (step) co_await std::move(step);
        step = Co<void>();  // its frame goes now, not with the next step
        if (base.ended_) co_return;
        if (!base.stopping_) {
          if (kind_of(d).next(d, step)) continue;
          detail::Msg* m = co_await detail::ReceiveRaw{};
          if (base.triage(m)) kind_of(d).handle(d, m, step);
          continue;
        }
      } catch (const ExitError& e) {
        base.stop_with(e.reason);  // caught by type: classifying by a rethrow costs another throw
      } catch (const std::exception& e) {
        base.stop_with(Reason::exception(e.what()));
      } catch (...) {
        base.stop_with(Reason::exception("unknown exception"));
      }
      // A start that threw (a Via name in a registry that refuses it) has nothing to
      // terminate: the process ends with the reason.
      if (base.ended_ || !base.held()) co_return;
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
    bool ignored = false;
    std::optional<Reason> declined;  // fail_start(reason)
    try {
      co_await static_cast<Kind&>(*this).run_init(d, start->args);
    } catch (const IgnoreStart&) {
      ignored = true;
    } catch (const FailStart& e) {
      declined = e.reason;
    } catch (const ExitError& e) {
      failed = e.reason;
    } catch (const std::exception& e) {
      failed = Reason::exception(e.what());
    } catch (...) {
      failed = Reason::exception("unknown exception");
    }
    if (ignored || declined) {
      if (!start->name.empty()) start->name.unregister_self();
      send(start->parent, detail::StartAck{start->tag, declined ? StartResult::error(*declined)
                                                                : StartResult::ignore()});
      ended_ = true;
      co_return;
    }
    if (failed) {
      // The name goes before the error is told, so that a start that follows at once finds it
      // free (gen_server's init_it unregisters it before proc_lib:init_fail).
      if (!start->name.empty()) start->name.unregister_self();
      send(start->parent, detail::StartAck{start->tag, StartResult::error(*failed)});
      if (!failed->is_orderly()) report_crash(*failed);
      detail::set_exit_reason(std::move(*failed));
      ended_ = true;
      co_return;
    }
    send(start->parent, detail::StartAck{start->tag, StartResult::ok(self())});
  }

  // What every behaviour does with a message before its own handling: false when the message
  // was the triage's (it is then freed).
  bool triage(detail::Msg* m) {
    last_ = m->type;
    if (auto* proto = static_cast<const detail::GenProtocol*>(m->type->protocol)) {
      if (proto->kind == detail::GenProtocol::Kind::stop) {
        stop_with(detail::value_of<detail::StopMsg>(m).reason);
        detail::free_msg(m);
        return false;
      }
      if (proto->server != &detail::server_tag<Derived>) {
        std::string what = fmt::format(
            "{{bad_{}, {}}}", proto->kind == detail::GenProtocol::Kind::call ? "call" : "cast",
            m->type->name);
        detail::free_msg(m);
        otp::exit(Reason::other(std::move(what)));
      }
      return true;
    }
    if (detail::is<Exit>(m) && (detail::value_of<Exit>(m).from == detail::self_parent() ||
                                !detail::value_of<Exit>(m).from)) {
      // The parent's (or the runtime's shutdown) exit signal, trapped: stop the way it asked.
      stop_with(detail::value_of<Exit>(m).reason);
      detail::free_msg(m);
      return false;
    }
    return true;
  }

  // The process is to stop with `reason` once the running callback returns. The reason waits
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
    if (!reason.is_orderly()) report_crash(reason);
    detail::set_exit_reason(
        std::move(reason));  // the one terminate asked for with stop() is ignored
  }

  static Co<void> run_terminate(Derived& d, const Reason& reason) {
    if constexpr (requires { d.terminate(reason); }) {
      try {
        if constexpr (detail::unwrap_co<decltype(d.terminate(reason))>::is_co) {
          co_await d.terminate(reason);
        } else {
          d.terminate(reason);
        }
      } catch (const std::exception& e) {
        log::error("{} {}: terminate failed: {}", Kind::behaviour_name, self(), e.what());
      }
    }
    co_return;
  }

  void report_crash(const Reason& reason) {
    if (!log::enabled(Level::error)) return;
    const Derived& d = static_cast<const Derived&>(*this);
    std::string module = describe_module(&d);
    report(CrashReport{process_label(self(), server_name()),
                       module.empty() ? describe_behaviour(&d) : std::move(module), reason,
                       last_ != nullptr ? std::string(last_->name) : std::string("(init)"),
                       held() ? describe_state() : std::string("(none)")});
  }

  auto& held() { return static_cast<Kind&>(*this).held(); }
  static Kind& kind_of(Derived& d) { return d; }

  std::string describe_state() {
    Derived& d = static_cast<Derived&>(*this);
    if constexpr (requires { d.format_state(); }) {
      return d.format_state();
    } else {
      return detail::describe(*held());
    }
  }

  // How the observer sees the process (otp/observer.hpp). A derived class may override the
  // behaviour's and the module's names with observer_behaviour() and observer_module() members.
  static std::string describe_behaviour(const void* self) {
    const auto& d = *static_cast<const Derived*>(self);
    if constexpr (requires { d.observer_behaviour(); }) {
      return d.observer_behaviour();
    } else {
      return std::string(Kind::behaviour_name);
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
        static_cast<const Behaviour&>(*static_cast<const Derived*>(self)).via_;
    return via != nullptr ? via->name_of(pid) : std::string();
  }
  static std::string describe_state_of(const void* self) {
    auto& base = static_cast<Behaviour&>(*const_cast<Derived*>(static_cast<const Derived*>(self)));
    return base.held() ? base.describe_state() : std::string("(starting)");
  }
  static constexpr detail::Describer describer{&describe_behaviour, &describe_module,
                                               &describe_name, &describe_state_of};

  const NameRegistry* via_ = nullptr;  // the registry of its Via name: it keeps no copy of the key
  const detail::MsgType* last_ = nullptr;  // the message (or event) being handled, for reports
  bool stopping_ = false;  // its reason waits in the process's exit reason (stop_with)
  bool ended_ = false;     // the process is to end once `step` is done
};

}  // namespace otp::detail
