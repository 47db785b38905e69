// Processes: spawn, send, links, monitors, exit signals (Erlang's rules).
//
// Functions here that act "as the calling process" (self, spawn_link, link,
// monitor, trap_exit, exit/1) must be called from inside a process; send,
// exit/2 and is_alive work from any thread.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "otp/co.hpp"
#include "otp/detail/msg.hpp"
#include "otp/names.hpp"
#include "otp/pid.hpp"
#include "otp/reason.hpp"
#include "otp/runtime.hpp"

namespace otp {

// Erlang's badarg: e.g. sending to a name nobody has registered.
struct BadArg : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Thrown by otp::exit(reason) to end the calling process with `reason`; a
// process's body should let it escape. Also what a Scoped handle throws when
// its process was killed.
struct ExitError : std::runtime_error {
  explicit ExitError(Reason r)
      : std::runtime_error("** (exit) " + r.to_string()), reason(std::move(r)) {}
  ExitError(Reason r, const std::string& message)
      : std::runtime_error(message), reason(std::move(r)) {}
  Reason reason;
};

// What a process that traps exits receives instead of dying.
struct Exit {
  Pid from;
  Reason reason;
};

// What a monitoring process receives when the monitored one ends.
struct Down {
  Ref ref;
  Pid pid;  // empty for a monitor by a name that no process had
  Reason reason;
  std::string name{};  // a monitor made by name (monitor("name")): that name; else empty
};

// The calling process. Throws std::logic_error outside a process.
Pid self();
// True inside a process.
bool in_process();
bool is_alive(const Pid& pid);
// The live processes of the caller's runtime (erlang:system_info(process_count)): a counter the
// runtime keeps, so it costs the same for ten processes as for a million. From a process or a
// Scoped handle; throws std::logic_error elsewhere.
std::size_t process_count();

// Labels the calling process (proc_lib:set_label/1, OTP 27): where it has no registered name,
// the observer's tree and table and the console's `tree` and `ps` show the label, so a process
// that is one of many alike (an HTTP connection) says what it is. `label` must outlive the
// process (a string literal). A behaviour describes its process itself; this is for plain ones.
void set_label(const char* label);

// How an alias made by alias() ends: only by unalias (explicit_unalias), or
// also once one message sent through it has been received (reply).
enum class AliasOption : unsigned char { explicit_unalias, reply };
// The alias option of monitor(pid, ...): the monitor's ref is also an alias,
// which ends only by unalias (explicit_unalias); or when the monitor ends, by
// demonitor or its Down (demonitor); or, in addition, once one message sent
// through it has been received, which also removes the monitor (reply_demonitor).
enum class MonitorAlias : unsigned char { explicit_unalias, demonitor, reply_demonitor };

namespace detail {
// All alias kinds: AliasOption's and MonitorAlias's.
enum class AliasMode : unsigned char { explicit_unalias, reply, demonitor, reply_demonitor };

template <class F, class... A>
Co<void> run_body(F f, A... a) {
  co_await std::invoke(std::move(f), std::move(a)...);
}

template <class F>
struct takes_values : std::false_type {};
template <class R, class... P>
struct takes_values<R (*)(P...)> : std::bool_constant<(!std::is_reference_v<P> && ...)> {};

// A process body owns its function object and arguments: a lambda's captures
// live in the lambda object, which would otherwise die before the coroutine
// finishes, and reference parameters would dangle. A captureless function with
// no arguments, or a plain function taking its parameters by value (which the
// coroutine frame then holds), needs no wrapper frame.
template <class F, class... A>
Co<void> make_body(F&& f, A&&... a) {
  using Fn = std::decay_t<F>;
  if constexpr (sizeof...(A) == 0 && (std::is_pointer_v<Fn> || std::is_empty_v<Fn>)) {
    return std::invoke(f);
  } else if constexpr (takes_values<Fn>::value) {
    return std::invoke(f, std::forward<A>(a)...);
  } else {
    return run_body<Fn, std::decay_t<A>...>(std::forward<F>(f), std::forward<A>(a)...);
  }
}

void deliver(const Pid& to, Msg* m) noexcept;
inline void deliver(const Alias& to, Msg* m) noexcept {
  m->alias = to.ref.id;
  deliver(to.pid, m);
}
// monitor(pid) whose ref is also an alias of the calling process, ended with
// the monitor (MonitorAlias::demonitor): how calls and tasks wait for replies.
Ref monitor_alias(const Pid& pid);
// The reason the calling process exits with when its body returns (instead of
// normal): ends a process with a reason without the cost of an exception.
void set_exit_reason(Reason reason);
// That reason, as set so far (normal when nothing set it).
Reason exit_reason();
// The process that spawned the calling one (empty for a process spawned from outside the runtime).
const Pid& self_parent();
// Call protocol shortcuts: the callee drops the caller's monitor `ref` on
// itself before replying (true when it held it), so no Down can follow; the
// caller, told so by the reply, then forgets its side without a signal (and
// with it the monitor's alias).
bool unwatch(Ref ref) noexcept;
void forget_monitor(Ref ref) noexcept;
// The calling process or Scoped handle; an empty Pid on any other thread.
Pid caller() noexcept;
Pid resolve(std::string_view name);  // throws BadArg
}  // namespace detail

// Starts a process. `f(args...)` must return Co<void>. Inside a process the new
// one runs on the same runtime; use Runtime::spawn from outside.
template <class F, class... A>
Pid spawn(F&& f, A&&... args) {
  return detail::spawn_co(nullptr, detail::make_body(std::forward<F>(f), std::forward<A>(args)...),
                          {})
      .pid;
}

// spawn + link, atomically: the child cannot exit before the link exists.
template <class F, class... A>
Pid spawn_link(F&& f, A&&... args) {
  return detail::spawn_co(nullptr, detail::make_body(std::forward<F>(f), std::forward<A>(args)...),
                          {.link = true})
      .pid;
}

// spawn + monitor, atomically. Returns the pid and the monitor's reference.
template <class F, class... A>
std::pair<Pid, Ref> spawn_monitor(F&& f, A&&... args) {
  auto s = detail::spawn_co(
      nullptr, detail::make_body(std::forward<F>(f), std::forward<A>(args)...), {.monitor = true});
  return {s.pid, s.ref};
}

// Sends a message. Never blocks; sending to a pid that has exited does nothing.
template <class T>
void send(const Pid& to, T&& msg) {
  detail::deliver(to, detail::make_msg<T>(std::forward<T>(msg)));
}
// Sends to a locally registered name; throws BadArg when the name is unknown.
// Inside a process only (the name is looked up in its runtime); from a plain
// thread use Scoped::send(name, msg).
template <class T>
void send(std::string_view name, T&& msg) {
  send(detail::resolve(name), std::forward<T>(msg));
}
template <class T>
void send(const char* name, T&& msg) {
  send(std::string_view{name}, std::forward<T>(msg));
}
// Sends to a {via, registry, key} name; throws BadArg when the key is unknown.
template <class T>
void send(const Via& via, T&& msg) {
  send(via.resolve(), std::forward<T>(msg));
}

// Sends to an alias: the message reaches the alias's process if the alias is
// still active when the process takes it in, and is dropped otherwise.
template <class T>
void send(const Alias& to, T&& msg) {
  detail::deliver(to, detail::make_msg<T>(std::forward<T>(msg)));
}

// Links the calling process with `pid` (both ways). Linking to a process that
// does not exist delivers an exit signal with reason `noproc` to the caller.
void link(const Pid& pid);
void unlink(const Pid& pid);

// Monitors `pid`: one Down{ref, pid, reason} arrives when it ends (at once, with
// `noproc`, when it does not exist).
Ref monitor(const Pid& pid);
// monitor(pid) whose ref is also an alias of the calling process (Erlang's
// monitor(process, Pid, [{alias, Mode}])); Down{ref = alias.ref, ...} as usual.
Alias monitor(const Pid& pid, MonitorAlias mode);
// Erlang's monitor(process, RegName): monitors the process registered as `name` now. Its Down
// names it (Down::name), and comes at once with `noproc` (and no pid) when no process has it.
Ref monitor(std::string_view name);
// Removes the monitor. With flush, also removes a Down for it already in the
// mailbox. After this returns no Down for `ref` will be received. A monitor
// alias made with MonitorAlias::demonitor or reply_demonitor ends too. Returns whether the
// monitor was still active (Erlang's demonitor(Ref, [info])): false when its Down had already
// been taken in (or it never was a monitor of the caller's).
bool demonitor(Ref ref, bool flush = false);

// A new alias of the calling process (Erlang's alias/0,1).
Alias alias(AliasOption option = AliasOption::explicit_unalias);
// Ends an alias of the calling process: messages sent to it from now on, and
// those on their way not yet taken in, are dropped; messages already in the
// mailbox stay. True when it was an active alias of this process.
bool unalias(const Alias& alias);

// Sends an exit signal to `pid` (Erlang's exit/2). See docs/semantics.md.
void exit(const Pid& pid, Reason reason);
// Ends the calling process with `reason` (Erlang's exit/1), by throwing ExitError.
[[noreturn]] void exit(Reason reason);
// The same with the reason written as Erlang writes it: otp::exit("boom") is exit(boom), and
// the built-in names mean their reasons (Reason::parse): otp::exit(pid, "kill") kills.
[[noreturn]] inline void exit(std::string_view reason) { exit(Reason::parse(reason)); }
inline void exit(const Pid& pid, std::string_view reason) { exit(pid, Reason::parse(reason)); }

// Turns exit signals into Exit messages for the calling process. Returns the old value.
bool trap_exit(bool on);

Ref make_ref();

// The calling process's runtime clock (Runtime::now): virtual in deterministic mode.
Duration now();

// The calling process's registered name, or empty.
std::string registered_name();

}  // namespace otp
