// Timers: send_after, cancel_timer, read_timer (Erlang's erlang:send_after/3 family).
//
// A timer delivers its message to the pid when it falls due, on the runtime's
// clock (the virtual clock in deterministic mode). A timer whose target has
// exited is no longer pending: read_timer and cancel_timer report nullopt, and its
// message is never sent. Resolution is one millisecond; a timer never fires early.
#pragma once

#include <cstdint>
#include <optional>

#include "otp/detail/msg.hpp"
#include "otp/pid.hpp"
#include "otp/runtime.hpp"

namespace otp {

struct TimerRef {
  std::uint64_t id = 0;
  void* entry = nullptr;
  explicit operator bool() const { return id != 0; }
};

namespace detail {
TimerRef start_timer(const Pid& to, Duration after, Msg* m);
}

template <class T>
TimerRef send_after(Duration after, const Pid& to, T&& msg) {
  return detail::start_timer(to, after, detail::make_msg<T>(std::forward<T>(msg)));
}

// Cancels the timer; returns the time that was left, or nullopt when it has
// already fired or been cancelled.
std::optional<Duration> cancel_timer(TimerRef ref);
// The time left before the timer fires, or nullopt when it is no longer pending.
std::optional<Duration> read_timer(TimerRef ref);

}  // namespace otp
