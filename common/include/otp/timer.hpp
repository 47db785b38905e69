// Timers: send_after, start_timer, cancel_timer, read_timer (Erlang's erlang:send_after/3
// family).
//
// A timer delivers its message to the pid when it falls due, on the runtime's
// clock (the virtual clock in deterministic mode). A timer whose target has
// exited is no longer pending: read_timer and cancel_timer report nullopt, and its
// message is never sent. A timer aimed at a registered name looks the name up when it falls
// due, and is dropped when no process has it then. Resolution is one millisecond; a timer never
// fires early.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "otp/detail/msg.hpp"
#include "otp/pid.hpp"
#include "otp/runtime.hpp"

namespace otp {

struct TimerRef {
  std::uint64_t id = 0;
  void* entry = nullptr;
  explicit operator bool() const { return id != 0; }
  friend bool operator==(const TimerRef& a, const TimerRef& b) { return a.id == b.id; }
};

// What start_timer delivers: Erlang's {timeout, TimerRef, Msg}.
template <class T>
struct Timeout {
  TimerRef ref;  // the one start_timer returned
  T msg;
};

namespace detail {
// `ref_in_msg`, when given, points into `m` and is set to the timer's ref before it can fire.
TimerRef start_timer(const Pid& to, Duration after, Msg* m, TimerRef* ref_in_msg = nullptr);
TimerRef start_named_timer(std::string name, Duration after, Msg* m);
}  // namespace detail

template <class T>
TimerRef send_after(Duration after, const Pid& to, T&& msg) {
  return detail::start_timer(to, after, detail::make_msg<std::decay_t<T>>(std::forward<T>(msg)));
}
// To the process registered as `name` when the timer falls due (Erlang's send_after to an atom);
// the message is dropped when no process has the name then. From a process only.
template <class T>
TimerRef send_after(Duration after, std::string_view name, T&& msg) {
  return detail::start_named_timer(std::string(name), after,
                                   detail::make_msg<std::decay_t<T>>(std::forward<T>(msg)));
}

// Erlang's start_timer/3: as send_after, but what arrives is Timeout<T>{ref, msg}, ref being the
// one returned, so a process tells its timers apart, and a stale one from the current.
template <class T>
TimerRef start_timer(Duration after, const Pid& to, T&& msg) {
  using M = Timeout<std::decay_t<T>>;
  detail::Msg* m = detail::make_msg<M>(M{TimerRef{}, std::forward<T>(msg)});
  return detail::start_timer(to, after, m, &detail::value_of<M>(m).ref);
}

// Cancels the timer; returns the time that was left, or nullopt when it has
// already fired or been cancelled.
std::optional<Duration> cancel_timer(TimerRef ref);
// The time left before the timer fires, or nullopt when it is no longer pending.
std::optional<Duration> read_timer(TimerRef ref);

}  // namespace otp
