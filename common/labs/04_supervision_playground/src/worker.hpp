// Worker: a GenServer that says when it starts and why it terminates.
//
// It traps exits, so an exit signal from its supervisor (shutdown) reaches it as a message and it
// runs terminate before it goes, printing the reason; a signal from anyone else is printed and
// ignored. Only `kill` ends it without terminate. `slow` makes its terminate take a while, to try
// the supervisor's shutdown timeouts.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "otp/otp.hpp"

namespace lab {

struct WorkerState {
  std::string name;
  otp::Duration stop_delay{0};
};

class Worker : public otp::GenServer<Worker, WorkerState> {
 public:
  struct Crash {};
  struct Ping {};
  struct Slow {
    otp::Duration stop_delay;
  };

  static otp::Start start_link(std::string name) {
    return GenServer::start_link(otp::Name::local(name), name);
  }

  WorkerState init(const std::string& name) {
    otp::trap_exit(true);
    say(name, "start");
    return {name};
  }

  void handle_cast(Crash) { throw std::runtime_error("boom"); }
  void handle_call(Ping) {}
  void handle_call(Slow slow) { state().stop_delay = slow.stop_delay; }

  void handle_info(otp::Exit exit) {
    say(state().name, fmt::format("exit signal from {} trapped: {}", exit.from, exit.reason));
  }

  otp::Co<void> terminate(const otp::Reason& reason) {
    say(state().name, fmt::format("terminate: {}", reason));
    if (state().stop_delay > otp::Duration(0)) {
      co_await otp::sleep(state().stop_delay);
      say(state().name, "terminate: done");
    }
  }

  std::string format_state() const { return fmt::format("%{{name: {}}}", state().name); }

  // What the workers print goes to stdout, between the console's answers.
  static void say(const std::string& name, const std::string& what) {
    fmt::print("[{} {}] {}\n", name, otp::self(), what);
    std::fflush(stdout);
  }
};

}  // namespace lab
