// Helpers shared by the runtime's unit tests.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "otp/otp.hpp"

namespace otp_test {

using namespace std::chrono_literals;

// Generous bound for waits that should end at once; never a timing assertion.
inline constexpr auto kWait = std::chrono::seconds(5);

// Lets a gated process start its real work (see spawn_gated).
struct Go {};
// A message nobody sends: receiving it blocks forever.
struct Never {};

// Spawns `body` (a callable returning otp::Co<void>) behind a Go message, so that
// the caller can monitor or link the process before it does anything; then
// monitors it from `me` and lets it go. Returns the pid and the monitor's ref.
template <class F>
std::pair<otp::Pid, otp::Ref> spawn_monitored(otp::Scoped& me, F body) {
  otp::Pid pid = me.runtime().spawn([body = std::move(body)]() mutable -> otp::Co<void> {
    co_await otp::receive<Go>();
    co_await body();
  });
  otp::Ref ref = me.monitor(pid);
  otp::send(pid, Go{});
  return {pid, ref};
}

// The Down of monitor `ref`, or nullopt after kWait.
inline std::optional<otp::Down> await_down(otp::Scoped& me, otp::Ref ref) {
  return me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; }, kWait);
}

// An object whose destructor counts itself: shows that a process frame was destroyed.
struct DtorCounter {
  explicit DtorCounter(std::atomic<int>* c) : count(c) {}
  DtorCounter(const DtorCounter&) = delete;
  DtorCounter& operator=(const DtorCounter&) = delete;
  ~DtorCounter() { count->fetch_add(1); }
  std::atomic<int>* count;
};

// A GenServer that holds callers until a Release arrives, then answers them all (deferred replies).
struct Gate : otp::GenServer<Gate, std::vector<otp::From<int>>> {
  struct Wait {};
  struct Count {};
  struct Release {
    int value;
  };
  std::vector<otp::From<int>> init() { return {}; }
  otp::Reply<int> handle_call(Wait, otp::From<int> from) {
    state().push_back(from);
    return otp::noreply;
  }
  std::size_t handle_call(Count) { return state().size(); }
  void handle_cast(Release r) {
    for (auto& f : state()) otp::reply(f, r.value);
    state().clear();
  }
};

}  // namespace otp_test
