// A worker to supervise: it tells `report` when it starts and when it is stopped, crashes on
// Crash and ends normally on Quit. It traps exits so that it can report its stop.
#pragma once

#include <stdexcept>
#include <string>

#include "otp/otp.hpp"
#include "supervisor.hpp"

namespace lab {

struct Started {
  std::string id;
  otp::Pid pid;
};
struct Stopped {
  std::string id;
  otp::Reason reason;
};
struct Crash {};
struct Quit {};

inline otp::Co<void> worker(otp::Pid report, std::string id) {
  otp::trap_exit(true);
  otp::send(report, Started{id, otp::self()});
  for (;;) {
    bool quit = false;
    co_await otp::receive([&](Crash) { throw std::runtime_error("boom"); },
                          [&](Quit) { quit = true; },
                          [&](otp::Exit e) {
                            otp::send(report, Stopped{id, e.reason});
                            otp::exit(e.reason);
                          });
    if (quit) co_return;
  }
}

// The child spec of a worker called `id` that reports to `report`.
inline ChildSpec worker_spec(otp::Pid report, const std::string& id) {
  return {id, [report, id] { return otp::spawn_link(&worker, report, id); }};
}

}  // namespace lab
