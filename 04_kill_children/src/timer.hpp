// Ends a user's session, named "<login>_timer": when it has been idle too long (each request
// starts the wait again), and in any case when it is too old.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"

namespace hang_ten {

struct Timeouts {
  otp::Duration inactive = std::chrono::minutes(15);
  otp::Duration absolute = std::chrono::minutes(60);
};
inline Timeouts timeouts;  // set by Application::start

inline otp::Co<bool> stop(const std::string& login);  // in hang_ten.hpp

struct Clock {
  std::string login;
  otp::TimerRef idle;
  std::uint64_t touches = 0;
};

class Timer : public otp::GenServer<Timer, Clock> {
 public:
  struct Touch {};
  struct Idle {
    std::uint64_t touches;
  };
  struct TooOld {};
  using Info = otp::Messages<Idle, TooOld>;

  static otp::Start start_link(std::string login) {
    return GenServer::start_link(via(login, "timer"), login);
  }
  static void touch(const std::string& login) { cast(via(login, "timer"), Touch{}); }

  Clock init(const std::string& login) {
    // exercise: timer-init — TooOld after timeouts.absolute, Idle{0} after timeouts.inactive
    otp::send_after(timeouts.absolute, otp::self(), TooOld{});
    return Clock{login, otp::send_after(timeouts.inactive, otp::self(), Idle{0})};
    // end exercise
  }

  void handle_cast(Touch) {
    // exercise: timer-touch — cancel the idle timer, start a new one, count the touch
    otp::cancel_timer(state().idle);
    state().idle = otp::send_after(timeouts.inactive, otp::self(), Idle{++state().touches});
    // end exercise
  }

  // The whole session goes, this Timer with it, through the top-level supervisor.
  otp::Co<void> handle_info(Idle idle) {
    // exercise: timer-idle — a stale Idle (touched since) does nothing; else stop the session
    if (idle.touches != state().touches) co_return;
    otp::log::info("{}: session ended, idle for {} (inactive timeout)", state().login,
                   otp::format_duration(timeouts.inactive));
    co_await hang_ten::stop(state().login);
    // end exercise
  }
  otp::Co<void> handle_info(TooOld) {
    otp::log::info("{}: session ended, {} old (absolute timeout)", state().login,
                   otp::format_duration(timeouts.absolute));
    co_await hang_ten::stop(state().login);
  }
};

}  // namespace hang_ten
